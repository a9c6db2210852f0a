/*
 * hsdb_none.c - no prebuilt pattern database: the one the build tool
 * (src/tools/kbc.c) links, since it is what makes the database.
 */
#include <stddef.h>

extern const char cp_kb_hsdb[];
extern const size_t cp_kb_hsdb_len;

const char cp_kb_hsdb[1] = { 0 };
const size_t cp_kb_hsdb_len = 0;
