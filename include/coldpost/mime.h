/*
 * mime.h - the one place GMime is initialised.
 *
 * GMime keeps process-wide state (its charset tables, the GObject types of
 * its parts) that g_mime_init() sets up and that must be set up only once.
 * Every module that parses MIME with GMime (the content linter, the bounce
 * parser) calls cp_mime_init() before its first GMime call instead of
 * g_mime_init(): the first call initialises, later and concurrent calls
 * wait for it and return. GMime is never shut down (its state lives until
 * the process exits), so modules may come and go in any order.
 */
#ifndef COLDPOST_MIME_H
#define COLDPOST_MIME_H

/* Initialise GMime once for the process; safe from any thread, any number
 * of times. */
void cp_mime_init(void);

#endif
