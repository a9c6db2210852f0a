/*
 * dmarc_int.h - what the DMARC files share and nobody else needs.
 */
#ifndef COLDPOST_DMARC_INT_H
#define COLDPOST_DMARC_INT_H

#include <stddef.h>

/*
 * name lowercased (ASCII) without a trailing dot into buf. CP_EINVAL for
 * an empty name or label, a label over 63 bytes, over 253 bytes in all,
 * or a byte that has no place in a domain name. (orgdomain.c)
 */
int dmarc_norm_domain(const char *name, char *buf, size_t buflen);

#endif
