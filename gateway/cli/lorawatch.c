/* lorawatch: maintenance and review client. This first version reports its version and usage;
 * node pairing, status and history commands talk to the daemon's control socket or read the
 * database, and arrive with their own features. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lw_version.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: lorawatch [--version] [--help] COMMAND [ARGS]\n"
                 "\n"
                 "Maintenance and review client for the lorawatchd gateway.\n"
                 "\n"
                 "Options:\n"
                 "  -V, --version   print the version and exit\n"
                 "  -h, --help      print this help and exit\n"
                 "\n"
                 "Commands: none yet in this version. Planned: pair, nodes, status, history,\n"
                 "events, report.\n"
                 "\n"
                 "Exit status: 0 success; 2 usage error.\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "+Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'V':
            printf("lorawatch %s\n", LW_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "lorawatch: unknown command '%s' (see lorawatch --help)\n", argv[optind]);
        return 2;
    }
    usage(stderr);
    return 2;
}
