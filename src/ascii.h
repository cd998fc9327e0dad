/*
 * ascii.h - character classes of the ASCII the protocols speak, whatever
 * the locale: header fields, domains, JSON white space.  Bytes past 0x7f
 * are in no class.
 */
#ifndef TI_ASCII_H
#define TI_ASCII_H

#include <stdbool.h>

static inline char
ascii_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static inline bool
ascii_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static inline bool
ascii_is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    ascii_is_digit(ch);
}

/* Space, tab, CR and LF. */
static inline bool
ascii_is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

#endif
