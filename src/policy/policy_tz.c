/*
 * policy_tz.c - local days in a mailbox's IANA time zone, for daily caps.
 *
 * A cap counts per day in the mailbox's zone, so we need "which local date
 * is t" and "when does the next local day start" for any zone, from any
 * thread. localtime_r() only knows the process's zone (TZ), and changing
 * TZ with setenv() in a threaded server races with every other thread's
 * time calls (POSIX: setenv is not thread-safe, and tzset state is
 * global). ICU's calendar (Debian libicu72) takes the zone per object and
 * is thread-safe per object; it applies the zone's full rules (including
 * the rules past the last listed transition) and resolves a local
 * midnight that DST skips (e.g. America/Santiago, Asia/Beirut) to the
 * first instant of that day. One calendar is made per call; callers cache
 * the answer for the rest of the day (policy_cap.c).
 *
 * ICU carries its own copy of the tz database; a zone name it does not
 * know (one newer than libicu72's data) is refused here rather than read
 * as GMT: the caller falls back to UTC and logs it.
 */
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "coldpost/policy.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t
tz_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static UCalendar *
tz_open(const char *tz, cp_err *err)
{
	UChar id[128], canon[128];
	UErrorCode st = U_ZERO_ERROR;
	UBool sys = 0;
	UCalendar *cal;
	size_t len = strnlen(tz, 100);

	if (len == 0 || len >= 100) {
		cp_err_set(err, CP_EINVAL, "policy: time zone: empty or too "
		    "long");
		return NULL;
	}
	u_uastrncpy(id, tz, (int32_t)len);
	ucal_getCanonicalTimeZoneID(id, (int32_t)len, canon, 128, &sys, &st);
	if (U_FAILURE(st) || !sys) {
		cp_err_set(err, CP_EINVAL, "policy: time zone '%s': unknown to "
		    "the calendar (ICU %s)", tz, U_ICU_VERSION);
		return NULL;
	}
	cal = ucal_open(id, (int32_t)len, "en_US_POSIX", UCAL_GREGORIAN, &st);
	if (U_FAILURE(st)) {
		cp_err_set(err, CP_EINVAL, "policy: time zone '%s': %s", tz,
		    u_errorName(st));
		return NULL;
	}
	return cal;
}

int
cp_policy_local_day(const char *tz, int64_t t, int64_t *day,
    int64_t *next_midnight, cp_err *err)
{
	UErrorCode st = U_ZERO_ERROR;
	UCalendar *cal = tz_open(tz, err);
	int64_t y, m, d;
	UDate next;

	if (cal == NULL)
		return CP_EINVAL;
	ucal_setMillis(cal, (UDate)t * 1000.0, &st);
	y = ucal_get(cal, UCAL_EXTENDED_YEAR, &st);
	m = ucal_get(cal, UCAL_MONTH, &st) + 1;
	d = ucal_get(cal, UCAL_DATE, &st);
	/* the next day at 00:00:00.000 local (lenient: a skipped midnight
	   becomes the first instant of that day) */
	ucal_add(cal, UCAL_DATE, 1, &st);
	ucal_set(cal, UCAL_HOUR_OF_DAY, 0);
	ucal_set(cal, UCAL_MINUTE, 0);
	ucal_set(cal, UCAL_SECOND, 0);
	ucal_set(cal, UCAL_MILLISECOND, 0);
	next = ucal_getMillis(cal, &st);
	ucal_close(cal);
	if (U_FAILURE(st))
		return cp_err_set(err, CP_EINVAL, "policy: time zone '%s': %s",
		    tz, u_errorName(st));
	*day = tz_days_from_civil(y, m, d);
	/* whole seconds, rounded up: the cap resets no earlier than then */
	*next_midnight = (int64_t)((next + 999.0) / 1000.0);
	if (*next_midnight <= t) /* cannot happen; never loop callers */
		*next_midnight = t + 1;
	return CP_OK;
}
