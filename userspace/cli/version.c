// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap version, and p2pmap --version.
 */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "json.h"

/* Calls @fn for each feature bit set in @mask, with its name or "bitN". */
static void cli_for_each_feature(uint64_t mask,
				 void (*fn)(const char *name, void *arg),
				 void *arg)
{
	char unknown[16];
	const char *name;
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		if (!(mask & (1ULL << bit)))
			continue;
		name = p2pmap_feature_name(1ULL << bit);
		if (!name) {
			snprintf(unknown, sizeof(unknown), "bit%u", bit);
			name = unknown;
		}
		fn(name, arg);
	}
}

static void cli_feature_text(const char *name, void *arg)
{
	fprintf(arg, " %s", name);
}

static void cli_feature_json(const char *name, void *arg)
{
	json_string(arg, NULL, name);
}

static void cli_version_text(FILE *out, const struct cli_version_report *r)
{
	const struct p2pmap_version *m = &r->module;

	fprintf(out, "p2pmap     %s\n", r->program);
	fprintf(out, "libp2pmap  %s (ABI %u)\n", r->library, r->library_abi);
	if (!r->module_loaded) {
		fputs("module     unavailable\n", out);
		return;
	}
	fprintf(out, "module     %u.%u.%u (ABI %u)\n", m->major, m->minor,
		m->patch, m->abi);
	fputs("features  ", out);
	if (m->features)
		cli_for_each_feature(m->features, cli_feature_text, out);
	else
		fputs(" none", out);
	fputc('\n', out);
}

static int cli_version_json(FILE *out, const struct cli_version_report *r)
{
	const struct p2pmap_version *m = &r->module;
	struct json_writer w;
	char version[48];

	json_init(&w, out);
	json_object_begin(&w, NULL);

	json_object_begin(&w, "p2pmap");
	json_string(&w, "version", r->program);
	json_object_end(&w);

	json_object_begin(&w, "library");
	json_string(&w, "version", r->library);
	json_u64(&w, "abi", r->library_abi);
	json_object_end(&w);

	json_object_begin(&w, "module");
	json_bool(&w, "available", r->module_loaded);
	if (r->module_loaded) {
		snprintf(version, sizeof(version), "%u.%u.%u", m->major,
			 m->minor, m->patch);
		json_string(&w, "version", version);
		json_u64(&w, "abi", m->abi);
		json_array_begin(&w, "features");
		cli_for_each_feature(m->features, cli_feature_json, &w);
		json_array_end(&w);
		json_u64(&w, "feature_mask", m->features);
	} else {
		json_object_begin(&w, "error");
		json_string(&w, "code", p2pmap_errcode_name(r->error.code));
		json_i64(&w, "errno", r->error.sys_errno);
		json_string(&w, "message", r->error.msg);
		json_object_end(&w);
	}
	json_object_end(&w);

	json_object_end(&w);
	return json_finish(&w);
}

int cli_version_print(FILE *out, enum cli_output output,
		      const struct cli_version_report *r)
{
	if (output == CLI_OUTPUT_JSON)
		return cli_version_json(out, r);
	cli_version_text(out, r);
	return 0;
}

int cli_program_version_print(FILE *out, enum cli_output output)
{
	struct json_writer w;

	if (output == CLI_OUTPUT_TEXT) {
		fprintf(out, "p2pmap %s\n", P2PMAP_VERSION_STR);
		return 0;
	}
	json_init(&w, out);
	json_object_begin(&w, NULL);
	json_object_begin(&w, "p2pmap");
	json_string(&w, "version", P2PMAP_VERSION_STR);
	json_object_end(&w);
	json_object_end(&w);
	return json_finish(&w);
}

int cli_version_command(const struct cli_invocation *inv)
{
	struct cli_version_report r = {
		.program	= P2PMAP_VERSION_STR,
		.library	= p2pmap_library_version(),
		.library_abi	= p2pmap_library_abi(),
	};
	_cleanup_p2pmap_ struct p2pmap *handle = NULL;

	if (p2pmap_open(&handle, &r.error) == 0 &&
	    p2pmap_get_version(handle, &r.module, &r.error) == 0)
		r.module_loaded = true;

	if (cli_version_print(inv->out, inv->output, &r)) {
		fputs("p2pmap: internal error: invalid JSON output\n", inv->err);
		return CLI_EXIT_FAILED;
	}
	if (!r.module_loaded) {
		fprintf(inv->err, "p2pmap: %s\n", r.error.msg);
		return cli_exit_for_error(&r.error);
	}
	return CLI_EXIT_OK;
}
