/* SPDX-License-Identifier: Apache-2.0 */
/* Prints the lorawatchd configuration of the bench estate: 1,000 nodes with distinct keys, the
 * rules of a given file, the sim radio on a loopback port and a private broker.
 * usage: bench_mkconf --db FILE --mqtt-port PORT --udp-port PORT [--site S] [--rules FILE]
 *                     [--gateway-extra "key = value"] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

int main(int argc, char **argv)
{
    struct bench_conf bc = {.site = "bench", .clock = "system", .log_level = "info"};
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"mqtt-port", required_argument, NULL, 'p'},
                                         {"udp-port", required_argument, NULL, 'u'},
                                         {"site", required_argument, NULL, 's'},
                                         {"rules", required_argument, NULL, 'r'},
                                         {"gateway-extra", required_argument, NULL, 'g'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "d:p:u:s:r:g:", opts, NULL)) != -1) {
        if (c == 'd')
            bc.database = optarg;
        else if (c == 'p')
            bc.mqtt_port = (unsigned)strtoul(optarg, NULL, 10);
        else if (c == 'u')
            bc.udp_port = (unsigned)strtoul(optarg, NULL, 10);
        else if (c == 's')
            bc.site = optarg;
        else if (c == 'r')
            bc.rules = optarg;
        else if (c == 'g')
            bc.gateway_extra = optarg;
        else
            goto usage;
    }
    if (!bc.database || !bc.mqtt_port || !bc.udp_port)
        goto usage;
    char *text = bench_config_text(&bc);
    if (!text)
        return 1;
    fputs(text, stdout);
    free(text);
    return fflush(stdout) == 0 ? 0 : 1;
usage:
    fprintf(stderr, "usage: bench_mkconf --db FILE --mqtt-port PORT --udp-port PORT [--site S] "
                    "[--rules FILE] [--gateway-extra \"key = value\"]\n");
    return 2;
}
