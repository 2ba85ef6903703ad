/* mcuforge <subcommand> [options] [key.sub=value …] */
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct {
    const char *verb;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", cmd_run, "run a config's whole chain: train, then quantize (quantize section)"},
    {"train", cmd_train, "train a model from a config (YAML)"},
    {"eval", cmd_eval, "evaluate a model on its dataset: accuracy, per class, confusion"},
    {"prune", cmd_prune,
     "magnitude pruning of conv and dense kernels, gradual while fine-tuning; masks saved"},
    {"quantize", cmd_quantize,
     "post-training quantization to int16/int8, accuracy from integer kernels"},
    {"deploy", cmd_deploy, "generate Cortex-M4F firmware; --run builds it and measures it in QEMU"},
    {"lower", cmd_lower,
     "print the lowered program (kernel calls, arena, scratch) and memory plan"},
    {"compare", cmd_compare,
     "per layer: SQNR vs float, host vs target (--target: QEMU) and the first difference"},
    {"info", cmd_info, "print a model file's layers, shapes, parameters and MACs"},
    {"dataset", cmd_dataset, "dataset info (counts per split and class) or prepare (cache)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: mcuforge <subcommand> [options] [key.sub=value ...]\n\nsubcommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].verb, commands[i].summary);
    fprintf(f, "\n'mcuforge <subcommand> --help' describes one subcommand.\n");
}

int cli_fail(const mf_error *err)
{
    char buf[2048];
    fprintf(stderr, "mcuforge: error: %s\n", mf_error_format(err, buf, sizeof buf));
    return 1;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("mcuforge %s\n", MF_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].verb)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "mcuforge: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
