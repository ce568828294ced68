// dlopen of libLightboxVision.so and dlsym of its lbx_net_* functions, once per process.
#define _GNU_SOURCE
#include "lbx_vision_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static lbx_vision_api api;
static int loaded = 0;
static char reason[512];

static void *symbol(void *library, const char *name, int *missing) {
    void *found = dlsym(library, name);
    if (found == NULL && !*missing) {
        *missing = 1;
        snprintf(reason, sizeof(reason), "libLightboxVision.so lacks %s", name);
    }
    return found;
}

static void load(void) {
    char executable[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", executable, sizeof(executable) - 1);
    char candidates[3][PATH_MAX + 64];
    int count = 0;
    if (length > 0) {
        executable[length] = '\0';
        char *slash = strrchr(executable, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(candidates[count++], sizeof(candidates[0]), "%s/libLightboxVision.so", executable);
            snprintf(candidates[count++], sizeof(candidates[0]), "%s/../lib/libLightboxVision.so", executable);
        }
    }
    snprintf(candidates[count++], sizeof(candidates[0]), "libLightboxVision.so");
    void *library = NULL;
    const char *last = "not found";
    for (int index = 0; index < count && library == NULL; ++index) {
        library = dlopen(candidates[index], RTLD_NOW | RTLD_LOCAL);
        if (library == NULL) last = dlerror();
    }
    if (library == NULL) {
        snprintf(reason, sizeof(reason),
                 "the inference engine libLightboxVision.so was not found beside the program (`make build` builds it): %s", last);
        return;
    }
    int missing = 0;
    api.net_load = (lbx_vision_status (*)(const char *, lbx_net **, lbx_vision_error *))symbol(library, "lbx_net_load", &missing);
    api.net_free = (void (*)(lbx_net *))symbol(library, "lbx_net_free", &missing);
    api.net_input_count = (int32_t (*)(const lbx_net *))symbol(library, "lbx_net_input_count", &missing);
    api.net_output_count = (int32_t (*)(const lbx_net *))symbol(library, "lbx_net_output_count", &missing);
    api.net_input = (lbx_vision_status (*)(const lbx_net *, int32_t, lbx_tensor_info *))symbol(library, "lbx_net_input", &missing);
    api.net_output = (lbx_vision_status (*)(const lbx_net *, int32_t, lbx_tensor_info *))symbol(library, "lbx_net_output", &missing);
    api.net_run = (lbx_vision_status (*)(lbx_net *, const float *, const int64_t *, int32_t, lbx_vision_error *))symbol(library, "lbx_net_run", &missing);
    api.net_result = (lbx_vision_status (*)(const lbx_net *, int32_t, const float **, lbx_tensor_info *))symbol(library, "lbx_net_result", &missing);
    api.version = (const char *(*)(void))symbol(library, "lbx_vision_version", &missing);
    loaded = !missing;
}

const lbx_vision_api *lbx_vision_api_load(char *error, size_t capacity) {
    pthread_once(&once, load);
    if (!loaded) {
        if (error != NULL && capacity > 0) snprintf(error, capacity, "%s", reason);
        return NULL;
    }
    return &api;
}
