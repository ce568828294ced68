// Shared by the shim's C++ files (not part of the C interface): failing with a message, and the
// guard that keeps every C++ exception inside the shim.
#ifndef LBX_SUPPORT_H
#define LBX_SUPPORT_H

#include "dcmtk/config/osconfig.h"
#include "dcmtk/ofstd/ofcond.h"

#include "lbx_dicom.h"

#include <cstdio>
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

} // namespace lbx

#endif
