/*
 * version: the aigw version string, for --version output and aigw_build_info.
 * The build may override it with -DAIGW_VERSION="...".
 */
#ifndef AIGW_COMMON_VERSION_H
#define AIGW_COMMON_VERSION_H

#ifndef AIGW_VERSION
#define AIGW_VERSION "0.1.0"
#endif

#endif
