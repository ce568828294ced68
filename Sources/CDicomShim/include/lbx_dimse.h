// C interface over DCMTK's dcmnet (DcmSCU, DcmSCP) for Lightbox: C-ECHO, C-FIND, C-GET, C-MOVE and
// C-STORE against a DIMSE peer. Every call opens its own association and releases it; every wait has a timeout.
#ifndef LBX_DIMSE_H
#define LBX_DIMSE_H

#include "lbx_dicom.h"

#ifdef __cplusplus
extern "C" {
#endif

/// A peer and how long each phase may take (seconds; 0 means the default of 10).
typedef struct lbx_dimse_peer {
    const char *host;
    uint16_t port;
    const char *called_ae_title;
    const char *calling_ae_title;
    int32_t connect_timeout;   ///< TCP connect
    int32_t acse_timeout;      ///< association negotiation and release
    int32_t dimse_timeout;     ///< each DIMSE message
} lbx_dimse_peer;

/// What went wrong on the network, beside the message: the Swift side words and tests it.
typedef enum lbx_dimse_failure {
    LBX_DIMSE_NONE = 0,
    LBX_DIMSE_CONNECT = 1,     ///< refused, unreachable, or no answer within the connect timeout
    LBX_DIMSE_REJECTED = 2,    ///< the peer rejected the association (called or calling AE title)
    LBX_DIMSE_ABORTED = 3,     ///< the peer aborted or closed the association
    LBX_DIMSE_TIMEOUT = 4,     ///< no ACSE or DIMSE answer within its timeout
    LBX_DIMSE_NO_CONTEXT = 5,  ///< the peer accepted none of the presentation contexts needed
    LBX_DIMSE_STATUS = 6,      ///< the peer answered with a failure status
    LBX_DIMSE_OTHER = 7
} lbx_dimse_failure;

typedef struct lbx_dimse_error {
    lbx_error error;
    lbx_dimse_failure failure;
    uint16_t status;           ///< the DIMSE status when failure is LBX_DIMSE_STATUS
} lbx_dimse_error;

/// One query key: an attribute and its value ("" asks for it to be returned).
typedef struct lbx_query_key {
    uint16_t group;
    uint16_t element;
    const char *value;
} lbx_query_key;

/// Called for each C-FIND match with the match as PS3.18 JSON; return 0 to cancel the query.
typedef int (*lbx_dimse_match_fn)(void *context, const char *json, size_t length);

/// Called after each instance a C-GET stored (complete, under its final name); return 0 to cancel.
typedef int (*lbx_dimse_stored_fn)(void *context, const char *sop_instance_uid, const char *path,
                                   uint32_t remaining, uint32_t completed, uint32_t failed);

lbx_status lbx_dimse_echo(const lbx_dimse_peer *peer, lbx_dimse_error *error);

/// C-FIND in the Study Root information model at `level` ("STUDY", "SERIES" or "IMAGE").
lbx_status lbx_dimse_find(const lbx_dimse_peer *peer, const char *level, const lbx_query_key *keys, size_t key_count,
                          lbx_dimse_match_fn on_match, void *context, lbx_dimse_error *error);

/// C-GET of a study (or one series, or one instance, when those UIDs are not NULL) into `folder`:
/// each instance is written to a temporary name there and renamed to SOP_INSTANCE_UID.dcm once
/// complete, in the transfer syntax the peer sent. `sop_classes` are the storage SOP classes to
/// negotiate with the SCP role (NULL: a built-in list of common ones).
lbx_status lbx_dimse_get(const lbx_dimse_peer *peer, const char *study_uid, const char *series_uid, const char *sop_uid,
                         const char *const *sop_classes, size_t sop_class_count, const char *folder,
                         lbx_dimse_stored_fn on_stored, void *context, lbx_dimse_error *error);

/// The storage SCP that receives C-MOVEs' instances: listening on `port` as `ae_title` from start
/// to stop, shared by every retrieve of the process that uses that port. Each retrieve routes its
/// study to a folder (instances written there as C-GET's are) and a callback, called from the
/// SCP's own thread, one call at a time (its return of 0 asks that study's move to cancel); an
/// instance of a study nobody routed is refused. `timeout` bounds each ACSE and DIMSE wait
/// (seconds; 0 means 10).
typedef struct lbx_dimse_receiver lbx_dimse_receiver;

lbx_status lbx_dimse_receiver_start(uint16_t port, const char *ae_title, const char *const *sop_classes, size_t sop_class_count,
                                    int32_t timeout, lbx_dimse_receiver **receiver, lbx_dimse_error *error);

/// Routes a study's instances (fails when the study is routed already).
lbx_status lbx_dimse_receiver_route(lbx_dimse_receiver *receiver, const char *study_uid, const char *folder, lbx_dimse_stored_fn on_stored,
                                    void *context, lbx_dimse_error *error);
void lbx_dimse_receiver_unroute(lbx_dimse_receiver *receiver, const char *study_uid);

/// Stops listening (within a moment: the listener is woken) and frees the receiver.
void lbx_dimse_receiver_stop(lbx_dimse_receiver *receiver);

/// C-MOVE of a study (or one series, or instances of it) to the receiver's AE title (the study must
/// be routed); returns once the peer's final answer came, every instance it sent already written.
lbx_status lbx_dimse_move(const lbx_dimse_peer *peer, lbx_dimse_receiver *receiver, const char *study_uid, const char *series_uid,
                          const char *sop_uid, lbx_dimse_error *error);

/// C-STORE of `paths` (DICOM files) in one association, each in its own transfer syntax where the
/// peer accepts it (explicit little endian otherwise). Stops at the first failure, naming the file.
lbx_status lbx_dimse_store(const lbx_dimse_peer *peer, const char *const *paths, size_t path_count, lbx_dimse_error *error);

#ifdef __cplusplus
}
#endif

#endif
