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
#include <condition_variable>
#include <deque>
#include <mutex>
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

/// A few threads with 1 GiB stacks (reserved, committed only as used), started once and kept:
/// DCMTK reads nested sequences and SR content trees recursively, so a hostile file nested
/// 10,000 levels deep overflows an ordinary 8 MiB stack; work handed here runs on a large one
/// instead. Keeping the threads costs a hand-over (a few microseconds) per call, where a thread
/// started per call cost about 80.
class LargeStacks {
public:
    static LargeStacks &shared() {
        static LargeStacks *pool = new LargeStacks();  // never destroyed: its threads outlive main
        return *pool;
    }

    /// Runs `task` on one of the threads and waits for it; false when no thread could be started.
    bool run(void (*task)(void *), void *context) {
        Job job{task, context};
        std::unique_lock<std::mutex> lock(mutex);
        if (started == 0) return false;
        queue.push_back(&job);
        wake.notify_one();
        finished.wait(lock, [&] { return job.done; });
        return true;
    }

private:
    struct Job {
        void (*task)(void *);
        void *context;
        bool done = false;
    };

    std::mutex mutex;
    std::condition_variable wake;
    std::condition_variable finished;
    std::deque<Job *> queue;
    int started = 0;

    LargeStacks() {
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setstacksize(&attributes, static_cast<size_t>(1) << 30);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        for (int index = 0; index < 4; ++index) {
            pthread_t thread;
            if (pthread_create(&thread, &attributes, &LargeStacks::loop, this) == 0) ++started;
        }
        pthread_attr_destroy(&attributes);
    }

    static void *loop(void *context) {
        auto *pool = static_cast<LargeStacks *>(context);
        for (;;) {
            Job *job = nullptr;
            {
                std::unique_lock<std::mutex> lock(pool->mutex);
                pool->wake.wait(lock, [&] { return !pool->queue.empty(); });
                job = pool->queue.front();
                pool->queue.pop_front();
            }
            job->task(job->context);
            {
                std::lock_guard<std::mutex> lock(pool->mutex);
                job->done = true;
            }
            pool->finished.notify_all();
        }
        return nullptr;
    }
};

/// Runs `body` on a large stack (`LargeStacks`) and waits for it; on this thread when none
/// could be started.
template <typename Body>
lbx_status onLargeStack(Body body) {
    struct Task {
        Body *body;
        lbx_status status;
        static void run(void *context) {
            auto *task = static_cast<Task *>(context);
            task->status = (*task->body)();
        }
    };
    Task task{&body, LBX_ERR_INTERNAL};
    if (!LargeStacks::shared().run(&Task::run, &task)) return body();
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
