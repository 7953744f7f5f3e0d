#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "spikeunet %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_require(const char *cmd, const char *flag, const char *value) {
    if (value && *value) return 0;
    cli_error(cmd, "missing required option %s (see 'spikeunet %s --help')", flag, cmd);
    return 1;
}

static void print_default(FILE *f, const cli_opt *o) {
    switch (o->type) {
    case OPT_INT: fprintf(f, " (default %d)", *(int *)o->value); break;
    case OPT_FLOAT: fprintf(f, " (default %g)", *(float *)o->value); break;
    case OPT_STRING:
        if (*(const char **)o->value) fprintf(f, " (default %s)", *(const char **)o->value);
        break;
    case OPT_FLAG: break;
    }
}

void cli_print_help(FILE *f, const cli_command *cmd, const cli_opt *opts) {
    fprintf(f, "usage: %s\n\n%s\n", cmd->usage, cmd->summary);
    if (cmd->description) fprintf(f, "\n%s\n", cmd->description);
    fprintf(f, "\noptions:\n");
    for (const cli_opt *o = opts; o && o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->meta ? " " : "", o->meta ? o->meta : "");
        fprintf(f, "  %-24s %s", left, o->help);
        print_default(f, o);
        fputc('\n', f);
    }
    fprintf(f, "  %-24s %s\n", "--help", "print this help and exit");
    if (cmd->epilogue) {
        fputc('\n', f);
        cmd->epilogue(f);
    }
}

static int parse_value(const char *cmd, const cli_opt *o, const char *text) {
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case OPT_INT: {
        long v = strtol(text, &end, 10);
        if (errno || end == text || *end || v < -2147483647L || v > 2147483647L) {
            cli_error(cmd, "option %s expects an integer, got '%s'", o->name, text);
            return CLI_USAGE;
        }
        *(int *)o->value = (int)v;
        return CLI_OK;
    }
    case OPT_FLOAT: {
        float v = strtof(text, &end);
        if (errno || end == text || *end || v != v) {
            cli_error(cmd, "option %s expects a number, got '%s'", o->name, text);
            return CLI_USAGE;
        }
        *(float *)o->value = v;
        return CLI_OK;
    }
    case OPT_STRING:
        *(const char **)o->value = text;
        return CLI_OK;
    case OPT_FLAG:
        break;
    }
    return CLI_USAGE;
}

int cli_parse(const cli_command *cmd, const cli_opt *opts, int argc, char **argv,
              const char **positional, int max_positional, int *n_positional) {
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            cli_print_help(stdout, cmd, opts);
            return -1;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == 0) {
            if (positional && npos < max_positional) {
                positional[npos++] = arg;
                continue;
            }
            cli_error(cmd->name, "unexpected argument '%s' (see 'spikeunet %s --help')", arg, cmd->name);
            return CLI_USAGE;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        const cli_opt *o = opts;
        for (; o && o->name; o++)
            if (strlen(o->name) == len && strncmp(o->name, arg, len) == 0) break;
        if (!o || !o->name) {
            cli_error(cmd->name, "unknown option '%.*s' (see 'spikeunet %s --help')", (int)len, arg, cmd->name);
            return CLI_USAGE;
        }
        if (o->type == OPT_FLAG) {
            if (eq) {
                cli_error(cmd->name, "option %s takes no value", o->name);
                return CLI_USAGE;
            }
            *(int *)o->value = 1;
            continue;
        }
        const char *text = eq ? eq + 1 : NULL;
        if (!text) {
            if (i + 1 >= argc) {
                cli_error(cmd->name, "option %s needs a value (%s)", o->name, o->meta ? o->meta : "value");
                return CLI_USAGE;
            }
            text = argv[++i];
        }
        int rc = parse_value(cmd->name, o, text);
        if (rc) return rc;
    }
    if (n_positional) *n_positional = npos;
    return CLI_OK;
}
