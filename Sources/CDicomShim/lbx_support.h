// Shared by the shim's C++ files (not part of the C interface): failing with a message, and the
// guard that keeps every C++ exception inside the shim.
#ifndef LBX_SUPPORT_H
#define LBX_SUPPORT_H

#include "dcmtk/config/osconfig.h"
#include "dcmtk/ofstd/ofcond.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcstack.h"

#include "lbx_dicom.h"

#include <cstdio>
#include <pthread.h>
#include <exception>
#include <new>
#include <string>

namespace lbx {

inline lbx_status fail(lbx_error *error, lbx_status status, const std::string &message) {
    if (error != nullptr) {
        std::snprintf(error->message, sizeof(error->message), "%s", message.c_str());
    }
    return status;
}

inline lbx_status failCondition(lbx_error *error, lbx_status status, const std::string &what, const OFCondition &condition) {
    return fail(error, status, what + ": " + condition.text());
}

/// Runs `body`, turning any escaping exception into a status.
template <typename Body>
lbx_status guarded(lbx_error *error, Body body) {
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return fail(error, LBX_ERR_MEMORY, "out of memory");
    } catch (const std::exception &exception) {
        return fail(error, LBX_ERR_INTERNAL, std::string("internal error: ") + exception.what());
    } catch (...) {
        return fail(error, LBX_ERR_INTERNAL, "internal error: unknown exception");
    }
}

/// JSON text for the shim's read-back (SR content trees, AI objects' descriptions).
inline void appendEscaped(std::string &out, const std::string &value) {
    out += '"';
    for (unsigned char c : value) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char escape[8];
                std::snprintf(escape, sizeof(escape), "\\u%04x", c);
                out += escape;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

inline void appendField(std::string &out, const char *name, const std::string &value, bool &first) {
    if (!first) out += ',';
    first = false;
    appendEscaped(out, name);
    out += ':';
    appendEscaped(out, value);
}

/// Runs `body` on a thread of its own with a 1 GiB stack (reserved, committed only as used) and
/// waits for it. DCMTK reads nested sequences and SR content trees recursively: a hostile file
/// nested 10,000 levels deep overflows an ordinary 8 MiB stack, and must be an error instead.
template <typename Body>
lbx_status onLargeStack(lbx_error *error, Body body) {
    struct Task {
        Body *body;
        lbx_status status;
        static void *run(void *context) {
            auto *task = static_cast<Task *>(context);
            task->status = (*task->body)();
            return nullptr;
        }
    };
    Task task{&body, LBX_ERR_INTERNAL};
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, static_cast<size_t>(1) << 30);
    pthread_t thread;
    const int created = pthread_create(&thread, &attributes, &Task::run, &task);
    pthread_attr_destroy(&attributes);
    if (created != 0) return body();  // no thread to be had: read on this one
    pthread_join(thread, nullptr);
    (void)error;
    return task.status;
}

/// Deeper than this many nested sequences, a file is refused: real objects nest a few levels
/// (SR content trees a few dozen), and DCMTK walks, converts and frees nested items recursively.
constexpr unsigned long maximumNesting = 500;

/// How many sequences deep `item` nests (walked with DCMTK's own stack, not by recursion here).
inline unsigned long nesting(DcmItem &item) {
    DcmStack stack;
    unsigned long deepest = 0;
    while (item.nextObject(stack, OFTrue).good()) {
        // The stack holds each sequence and each item above the current element.
        const unsigned long depth = stack.card() / 2;
        if (depth > deepest) deepest = depth;
        if (deepest > maximumNesting) break;
    }
    return deepest;
}

} // namespace lbx

#endif
