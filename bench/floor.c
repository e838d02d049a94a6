/*
 * floor: the cheapest thing a pcap reader can do, as the baseline that
 * `embargo scan` is measured against: read every packet with libpcap and
 * touch its bytes (a sum, so the loop cannot be optimised away).
 *
 *     floor PCAP...
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv) {
    uint64_t packets = 0, bytes = 0, sum = 0;
    for (int i = 1; i < argc; i++) {
        char err[PCAP_ERRBUF_SIZE];
        pcap_t *pc = pcap_open_offline(argv[i], err);
        if (pc == NULL) {
            fprintf(stderr, "floor: %s: %s\n", argv[i], err);
            return 2;
        }
        struct pcap_pkthdr *h;
        const u_char *d;
        while (pcap_next_ex(pc, &h, &d) == 1) {
            packets++;
            bytes += h->caplen;
            for (uint32_t k = 0; k < h->caplen; k += 64)
                sum += d[k];
        }
        pcap_close(pc);
    }
    printf("%llu packets, %llu bytes, checksum %llu\n", (unsigned long long)packets,
           (unsigned long long)bytes, (unsigned long long)sum);
    return 0;
}
