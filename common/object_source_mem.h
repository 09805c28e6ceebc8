/*
 * object_source_mem: internal constructor shared by the memory and directory
 * sources (both keep every object in memory after loading). Not for other
 * modules: they use object_source_mem_new() / object_source_dir_open().
 */
#ifndef AIGW_COMMON_OBJECT_SOURCE_MEM_H
#define AIGW_COMMON_OBJECT_SOURCE_MEM_H

#include "common/object_source.h"

/*
 * Builds a source over `objects` (an array; the reference is stolen, also on
 * failure). `origins` is NULL or an array parallel to `objects` of strings
 * ("file.yaml:12") used to name both places when an object appears twice.
 * `name` is copied.
 */
object_source *objsrc_mem_create(json_t *objects, json_t *origins, const char *name, char *err,
                                 size_t errlen);

/* Checks apiVersion, kind and metadata.name; 0 or -1 with the problem in err. */
int objsrc_check_object(const json_t *obj, char *err, size_t errlen);

#endif
