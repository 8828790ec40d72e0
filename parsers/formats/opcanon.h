/*
 * opcanon.h: the canonical form of an operation name, so that UAL and
 * Entra spellings of one activity compare equal:
 *   "Add service principal credentials."          (UAL)
 *   "Add service principal credentials"           (Entra)
 *   "Update application – Certificates and secrets management " (en dash, trailing space)
 *   "Update application ? Certificates and secrets management"  (Sparrow)
 *   "Update application \uFFFD Certificates ..."  (M365D), "â€“" mojibake, "-"
 * all canonicalize to one string. Steps: trim; collapse whitespace runs to
 * one space; map U+2013, U+2014, U+2212, U+FFFD, the mojibake sequences
 * "â€“"/"â€”", and a '?' or '-' standing alone between spaces to "-"; drop
 * one trailing '.'; ASCII case-fold (non-ASCII bytes kept as they are).
 */
#ifndef AH_OPCANON_H
#define AH_OPCANON_H

#include "../util/buf.h"

/* Append the canonical form of op to out. */
ah_status ah_opcanon(ah_span op, ah_buf *out);

#endif
