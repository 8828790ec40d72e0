/*
 * version.c: the build revision, baked in by the Makefile (the one object
 * rebuilt when the git revision changes). "unknown" outside a git checkout.
 */
#include "cli.h"

#ifndef AH_BUILD_REVISION
#define AH_BUILD_REVISION "unknown"
#endif

const char *ah_cli_build_revision(void) { return AH_BUILD_REVISION; }
