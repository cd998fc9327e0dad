/*
 * date.c - RFC 3339 date-times in TLS-RPT reports (stage 4 helper).
 *
 * Trust: the text comes from the report and is hostile.  It is read
 * strictly within len bytes (no NUL terminator needed), every field is
 * range-checked before any arithmetic, and the result is bounded to
 * 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z, so it always fits
 * in int64_t microseconds and can be formatted back.  Calendar arithmetic
 * is done here (proleptic Gregorian, days from and to 1970-01-01): no
 * timegm(), no strptime(), no locale, no time zone database.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"

#define DATE_USEC_PER_SEC INT64_C(1000000)
#define DATE_SEC_PER_DAY INT64_C(86400)
#define DATE_YEAR_MIN 1970
#define DATE_YEAR_MAX 9999
/* Days from 1970-01-01 to 10000-01-01: the first day we cannot write. */
#define DATE_DAYS_END INT64_C(2932897)
#define DATE_USEC_END (DATE_DAYS_END * DATE_SEC_PER_DAY * DATE_USEC_PER_SEC)

static const char date_syntax[] = "not an RFC 3339 date-time";

static bool
date_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
date_month_days(int64_t y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && date_is_leap(y))
		return 29;
	return days[m - 1];
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil); y >= 1, m 1-12, d 1-31, already range-checked.
 */
static int64_t
date_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;		/* y >= 0 here: no rounding towards zero */
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse, for days >= 0 (civil_from_days). */
static void
date_civil_from_days(int64_t z, int64_t *y_r, int *m_r, int *d_r)
{
	int64_t era, doe, yoe, y, doy, mp;

	z += 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m_r = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y_r = y + (*m_r <= 2);
}

/* Read exactly n digits at s[*pos]; 0, or -1 if one is not a digit. */
static int
date_digits(const char *s, size_t len, size_t *pos, size_t n, int *v_r)
{
	size_t i;
	int v = 0;

	if (len - *pos < n)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[*pos + i] < '0' || s[*pos + i] > '9')
			return -1;
		v = v * 10 + (s[*pos + i] - '0');
	}
	*pos += n;
	*v_r = v;
	return 0;
}

/* Expect the byte c at s[*pos]. */
static int
date_expect(const char *s, size_t len, size_t *pos, char c)
{
	if (*pos >= len || s[*pos] != c)
		return -1;
	(*pos)++;
	return 0;
}

/* The fields of a date-time as written, before any range check. */
struct date_fields {
	int year, mon, day, hour, min, sec;
	int sign, oh, om;	/* the zone offset; sign 0 for Z or none */
	int64_t frac;		/* microseconds */
};

/* Read a date-time's syntax into f; 0, or -1 when it is not one. */
static int
date_read_fields(const char *s, size_t len, struct date_fields *f)
{
	size_t pos = 0;
	int64_t scale = 100000;

	if (date_digits(s, len, &pos, 4, &f->year) != 0 ||
	    date_expect(s, len, &pos, '-') != 0 ||
	    date_digits(s, len, &pos, 2, &f->mon) != 0 ||
	    date_expect(s, len, &pos, '-') != 0 ||
	    date_digits(s, len, &pos, 2, &f->day) != 0)
		return -1;
	if (pos >= len || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' '))
		return -1;
	pos++;
	if (date_digits(s, len, &pos, 2, &f->hour) != 0 ||
	    date_expect(s, len, &pos, ':') != 0 ||
	    date_digits(s, len, &pos, 2, &f->min) != 0 ||
	    date_expect(s, len, &pos, ':') != 0 ||
	    date_digits(s, len, &pos, 2, &f->sec) != 0)
		return -1;
	if (pos < len && s[pos] == '.') {
		pos++;
		if (pos >= len || s[pos] < '0' || s[pos] > '9')
			return -1;
		/* Digits past the microsecond are dropped, not rounded. */
		while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
			f->frac += (s[pos] - '0') * scale;
			scale /= 10;
			pos++;
		}
	}
	if (pos < len && (s[pos] == 'Z' || s[pos] == 'z')) {
		pos++;
	} else if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
		f->sign = s[pos] == '+' ? 1 : -1;
		pos++;
		if (date_digits(s, len, &pos, 2, &f->oh) != 0 ||
		    date_expect(s, len, &pos, ':') != 0 ||
		    date_digits(s, len, &pos, 2, &f->om) != 0)
			return -1;
	}
	return pos == len ? 0 : -1;
}

/* Check each field's range; 0, or -1 with DATA naming the field. */
static int
date_check_fields(const struct date_fields *f, struct ti_err *err)
{
	if (f->year < DATE_YEAR_MIN || f->year > DATE_YEAR_MAX)
		return ti_err_set(err, TI_KIND_DATA,
		    "year out of range (%d-%d)", DATE_YEAR_MIN,
		    DATE_YEAR_MAX);
	if (f->mon < 1 || f->mon > 12)
		return ti_err_set(err, TI_KIND_DATA, "month out of range");
	if (f->day < 1 || f->day > date_month_days(f->year, f->mon))
		return ti_err_set(err, TI_KIND_DATA, "day out of range");
	if (f->hour > 23)
		return ti_err_set(err, TI_KIND_DATA, "hour out of range");
	if (f->min > 59)
		return ti_err_set(err, TI_KIND_DATA, "minute out of range");
	if (f->sec > 60)
		return ti_err_set(err, TI_KIND_DATA, "second out of range");
	if (f->oh > 23 || f->om > 59)
		return ti_err_set(err, TI_KIND_DATA,
		    "zone offset out of range");
	return 0;
}

int
date_parse_rfc3339(const char *s, size_t len, int64_t *usec_r,
    struct ti_err *err)
{
	struct date_fields f = { 0 };
	int sec;
	int64_t secs;

	if (s == NULL || date_read_fields(s, len, &f) != 0)
		return ti_err_set(err, TI_KIND_DATA, "%s", date_syntax);
	if (date_check_fields(&f, err) != 0)
		return -1;
	/* A leap second: we have no table of them. */
	sec = f.sec == 60 ? 59 : f.sec;
	secs = date_days_from_civil(f.year, f.mon, f.day) * DATE_SEC_PER_DAY +
	    f.hour * 3600 + f.min * 60 + sec;
	/* Local time minus the offset is UTC. */
	secs -= f.sign * (f.oh * 3600 + f.om * 60);
	if (secs < 0)
		return ti_err_set(err, TI_KIND_DATA, "before 1970 in UTC");
	if (secs >= DATE_DAYS_END * DATE_SEC_PER_DAY)
		return ti_err_set(err, TI_KIND_DATA, "after 9999 in UTC");
	*usec_r = secs * DATE_USEC_PER_SEC + f.frac;
	return 0;
}

bool
date_in_range(int64_t usec)
{
	return usec >= 0 && usec < DATE_USEC_END;
}

int
date_format_iso(int64_t usec, char *out, size_t size)
{
	int64_t secs, days, sod, y;
	int m, d, frac;

	if (out == NULL || !date_in_range(usec))
		return -1;
	secs = usec / DATE_USEC_PER_SEC;
	frac = (int)(usec % DATE_USEC_PER_SEC);
	days = secs / DATE_SEC_PER_DAY;
	sod = secs % DATE_SEC_PER_DAY;
	date_civil_from_days(days, &y, &m, &d);
	if (frac != 0)
		return ti_snprintf(out, size,
		    "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", (int)y, m, d,
		    (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
		    frac);
	return ti_snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    (int)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
	    (int)(sod % 60));
}
