// C++ over DCMTK's dcmnet (DcmSCU) behind lbx_dimse.h. Every entry point catches every exception.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcjson.h"
#include "dcmtk/dcmnet/scu.h"
#include "dcmtk/dcmnet/dcmtrans.h"
#include "dcmtk/dcmnet/scp.h"

#include "lbx_dimse.h"
#include "lbx_support.h"

#include <algorithm>
#include <arpa/inet.h>
#include <memory>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <sstream>
#include <string>
#include <vector>

namespace {

using lbx::guarded;

lbx_status failDimse(lbx_dimse_error *error, lbx_dimse_failure failure, const std::string &message, uint16_t status = 0) {
    if (error != nullptr) {
        error->failure = failure;
        error->status = status;
    }
    return lbx::fail(error != nullptr ? &error->error : nullptr, LBX_ERR_IO, message);
}

/// Sorts a network condition into what the Swift side words.
lbx_dimse_failure classify(const OFCondition &condition) {
    if (condition == DUL_ASSOCIATIONREJECTED) return LBX_DIMSE_REJECTED;
    if (condition == DUL_PEERABORTEDASSOCIATION || condition == DUL_NETWORKCLOSED || condition == DUL_PEERREQUESTEDRELEASE) {
        return LBX_DIMSE_ABORTED;
    }
    if (condition == DIMSE_NODATAAVAILABLE || condition == DUL_READTIMEOUT) return LBX_DIMSE_TIMEOUT;
    if (condition == NET_EC_NoAcceptablePresentationContexts) return LBX_DIMSE_NO_CONTEXT;
    if (condition == DUL_REQUESTASSOCIATIONFAILED) return LBX_DIMSE_CONNECT;
    const std::string text = condition.text();
    if (text.find("TCP Initialization Error") != std::string::npos || text.find("refused") != std::string::npos ||
        text.find("No route") != std::string::npos || text.find("unreachable") != std::string::npos) {
        return LBX_DIMSE_CONNECT;
    }
    if (text.find("imeout") != std::string::npos) return LBX_DIMSE_TIMEOUT;
    return LBX_DIMSE_OTHER;
}

int32_t orDefault(int32_t seconds) { return seconds > 0 ? seconds : 10; }

OFList<OFString> plainSyntaxes() {
    OFList<OFString> syntaxes;
    syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    return syntaxes;
}

/// Every transfer syntax Lightbox can read, so a retrieve is never transcoded for lack of one.
OFList<OFString> storageSyntaxes() {
    OFList<OFString> syntaxes;
    for (const char *uid : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                            UID_DeflatedExplicitVRLittleEndianTransferSyntax, UID_BigEndianExplicitTransferSyntax,
                            UID_JPEGProcess1TransferSyntax, UID_JPEGProcess2_4TransferSyntax,
                            UID_JPEGProcess14TransferSyntax, UID_JPEGProcess14SV1TransferSyntax,
                            UID_JPEGLSLosslessTransferSyntax, UID_JPEGLSLossyTransferSyntax,
                            UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax,
                            UID_RLELosslessTransferSyntax}) {
        syntaxes.push_back(uid);
    }
    return syntaxes;
}

/// The storage SOP classes negotiated when the caller names none: the common image and result
/// objects (a C-GET may offer at most 127 contexts beside the GET one).
const char *const defaultStorageClasses[] = {
    UID_CTImageStorage, UID_EnhancedCTImageStorage, UID_MRImageStorage, UID_EnhancedMRImageStorage,
    UID_ComputedRadiographyImageStorage, UID_DigitalXRayImageStorageForPresentation,
    UID_DigitalXRayImageStorageForProcessing, UID_DigitalMammographyXRayImageStorageForPresentation,
    UID_UltrasoundImageStorage, UID_UltrasoundMultiframeImageStorage, UID_SecondaryCaptureImageStorage,
    UID_MultiframeGrayscaleByteSecondaryCaptureImageStorage, UID_MultiframeGrayscaleWordSecondaryCaptureImageStorage,
    UID_MultiframeTrueColorSecondaryCaptureImageStorage, UID_XRayAngiographicImageStorage,
    UID_XRayRadiofluoroscopicImageStorage, UID_NuclearMedicineImageStorage, UID_PositronEmissionTomographyImageStorage,
    UID_SegmentationStorage, UID_ParametricMapStorage, UID_ComprehensiveSRStorage, UID_EnhancedSRStorage,
    UID_BasicTextSRStorage, UID_Comprehensive3DSRStorage, UID_GrayscaleSoftcopyPresentationStateStorage,
    UID_RTStructureSetStorage, UID_BreastTomosynthesisImageStorage, UID_VLPhotographicImageStorage,
};

/// Writes a received instance into `folder` as SOP_INSTANCE_UID.dcm, in the transfer syntax it
/// came in: under a temporary name first, renamed once whole, so a crash leaves a partial file,
/// never a short one named by its UID. (Not fsynced: a cache is fetched again; a file a power loss
/// damaged is found when it is indexed.) Takes the data set over. False with `failure` and the
/// C-STORE status to answer when it cannot be stored.
bool storeInstance(const std::string &folder, DcmDataset *incomingObject, const OFString &transferSyntax,
                   std::string &sopUID, std::string &finalPath, std::string &failure, Uint16 &status) {
    OFString uid;
    incomingObject->findAndGetOFString(DCM_SOPInstanceUID, uid);
    // A UID names the file: refuse anything that could leave the folder.
    bool safe = !uid.empty() && uid.size() <= 64;
    for (char c : std::string(uid.c_str())) safe = safe && ((c >= '0' && c <= '9') || c == '.');
    if (!safe) {
        delete incomingObject;
        status = STATUS_STORE_Error_CannotUnderstand;
        failure = "an instance with no valid SOP Instance UID";
        return false;
    }
    sopUID = uid.c_str();
    finalPath = folder + "/" + sopUID + ".dcm";
    const std::string partialPath = folder + "/." + sopUID + ".partial";
    // The file takes the data set over (no copy) and deletes it with itself.
    DcmFileFormat file(incomingObject, OFFalse);
    const E_TransferSyntax syntax = DcmXfer(transferSyntax.c_str()).getXfer();
    OFCondition condition = file.saveFile(partialPath.c_str(), syntax == EXS_Unknown ? EXS_LittleEndianExplicit : syntax,
                                          EET_UndefinedLength, EGL_recalcGL, EPD_noChange, 0, 0, EWM_createNewMeta);
    bool stored = condition.good() && std::rename(partialPath.c_str(), finalPath.c_str()) == 0;
    if (!stored) {
        std::remove(partialPath.c_str());
        failure = std::string("could not write ") + finalPath + ": " + (condition.good() ? "rename failed" : condition.text());
        status = STATUS_STORE_Refused_OutOfResources;
        return false;
    }
    status = STATUS_Success;
    return true;
}

/// The storage SCP C-MOVEs send to: one per storage port, listening while any retrieve of this
/// process needs it. Each retrieve routes its study to a folder and a callback; an instance of a
/// study nobody routed is refused. It writes each instance as a C-GET's are written.
class Receiver : public DcmSCP {
public:
    struct Route {
        std::string folder;
        lbx_dimse_stored_fn onStored = nullptr;
        void *context = nullptr;
        bool cancelled = false;
        std::string failure;
        uint32_t completed = 0, failed = 0;
    };

    std::atomic<bool> stop{false};
    std::mutex lock;
    std::map<std::string, Route> routes;   ///< by Study Instance UID, under `lock`
    std::string internalFailure;

    OFCondition handleIncomingCommand(T_DIMSE_Message *incomingMsg, const DcmPresentationContextInfo &presInfo) override {
        if (incomingMsg == nullptr || incomingMsg->CommandField != DIMSE_C_STORE_RQ) {
            return DcmSCP::handleIncomingCommand(incomingMsg, presInfo);
        }
        T_DIMSE_C_StoreRQ &request = incomingMsg->msg.CStoreRQ;
        DcmDataset *dataset = nullptr;
        OFCondition condition = receiveSTORERequest(request, presInfo.presentationContextID, dataset);
        if (condition.bad()) {
            delete dataset;
            return condition;
        }
        if (dataset == nullptr) return sendSTOREResponse(presInfo.presentationContextID, request, STATUS_STORE_Error_CannotUnderstand);
        OFString study;
        dataset->findAndGetOFString(DCM_StudyInstanceUID, study);
        std::string folder;
        {
            std::lock_guard<std::mutex> guard(lock);
            auto route = routes.find(study.c_str());
            if (route != routes.end()) folder = route->second.folder;
        }
        if (folder.empty()) {
            // Nobody here asked for this study.
            delete dataset;
            return sendSTOREResponse(presInfo.presentationContextID, request, STATUS_STORE_Refused_OutOfResources);
        }
        Uint16 status = STATUS_Success;
        std::string uid, path, why;
        const bool stored = storeInstance(folder, dataset, presInfo.acceptedTransferSyntax, uid, path, why, status);
        {
            std::lock_guard<std::mutex> guard(lock);
            auto found = routes.find(study.c_str());
            if (found != routes.end()) {
                Route &route = found->second;
                if (!stored) {
                    ++route.failed;
                    if (route.failure.empty()) route.failure = why;
                } else {
                    ++route.completed;
                    if (route.onStored != nullptr && !route.cancelled &&
                        route.onStored(route.context, uid.c_str(), path.c_str(), 0, route.completed, route.failed) == 0) {
                        route.cancelled = true;
                    }
                }
            }
        }
        return sendSTOREResponse(presInfo.presentationContextID, request, status);
    }

    bool isCancelled(const std::string &study) {
        std::lock_guard<std::mutex> guard(lock);
        auto route = routes.find(study);
        return route != routes.end() && route->second.cancelled;
    }

    std::string failure(const std::string &study) {
        std::lock_guard<std::mutex> guard(lock);
        if (!internalFailure.empty()) return internalFailure;
        auto route = routes.find(study);
        return route != routes.end() ? route->second.failure : std::string();
    }

    OFBool stopAfterConnectionTimeout() override { return stop.load(); }
    OFBool stopAfterCurrentAssociation() override { return stop.load(); }
};

/// A DcmSCU that hands C-FIND matches to a callback and writes C-GET's instances itself.
class Scu : public DcmSCU {
public:
    lbx_dimse_match_fn onMatch = nullptr;
    lbx_dimse_stored_fn onStored = nullptr;
    void *context = nullptr;
    std::string folder;
    std::string storeFailure;
    bool cancelled = false;
    uint32_t remaining = 0, completed = 0, failed = 0;

    OFCondition handleFINDResponse(const T_ASC_PresentationContextID presID, QRResponse *response,
                                   OFBool &waitForNextResponse) override {
        OFCondition condition = DcmSCU::handleFINDResponse(presID, response, waitForNextResponse);
        if (response != nullptr && response->m_dataset != nullptr && onMatch != nullptr && !cancelled &&
            (response->m_status == STATUS_Pending || response->m_status == STATUS_FIND_Pending_WarningUnsupportedOptionalKeys)) {
            std::ostringstream json;
            DcmJsonFormatCompact format(OFFalse);
            // DcmDataset writes its attributes without the enclosing braces.
            if (response->m_dataset->writeJson(json, format).good()) {
                std::string text = json.str();
                size_t start = text.find_first_not_of(" \t\r\n");
                if (start == std::string::npos || text[start] != '{') text = "{" + text + "}";
                if (onMatch(context, text.data(), text.size()) == 0) {
                    cancelled = true;
                    sendCANCELRequest(presID);
                }
            }
        }
        return condition;
    }

    Receiver *receiver = nullptr;
    std::string movedStudy;

    OFCondition handleMOVEResponse(const T_ASC_PresentationContextID presID, RetrieveResponse *response,
                                   OFBool &waitForNextResponse) override {
        OFCondition condition = DcmSCU::handleMOVEResponse(presID, response, waitForNextResponse);
        if (receiver != nullptr && !cancelled && waitForNextResponse && receiver->isCancelled(movedStudy)) {
            cancelled = true;
            sendCANCELRequest(presID);
        }
        return condition;
    }

    OFCondition handleCGETResponse(const T_ASC_PresentationContextID presID, RetrieveResponse *response,
                                   OFBool &continueCGETSession) override {
        if (response != nullptr) {
            remaining = response->m_numberOfRemainingSubops;
            failed = response->m_numberOfFailedSubops;
        }
        return DcmSCU::handleCGETResponse(presID, response, continueCGETSession);
    }

    OFCondition handleSTORERequest(const T_ASC_PresentationContextID presID, DcmDataset *incomingObject,
                                   OFBool &continueCGETSession, Uint16 &cStoreReturnStatus) override {
        continueCGETSession = OFTrue;
        if (incomingObject == nullptr) {
            cStoreReturnStatus = STATUS_STORE_Error_CannotUnderstand;
            return DIMSE_NULLKEY;
        }
        OFString abstractSyntax, transferSyntax;
        findPresentationContext(presID, abstractSyntax, transferSyntax);
        std::string sopUID, finalPath;
        if (!storeInstance(folder, incomingObject, transferSyntax, sopUID, finalPath, storeFailure, cStoreReturnStatus)) {
            if (cStoreReturnStatus == STATUS_STORE_Refused_OutOfResources) {
                ++failed;
                continueCGETSession = OFFalse;
            }
            return EC_Normal;
        }
        cStoreReturnStatus = STATUS_Success;
        ++completed;
        if (remaining > 0) --remaining;
        if (onStored != nullptr && onStored(context, sopUID.c_str(), finalPath.c_str(), remaining, completed, failed) == 0) {
            cancelled = true;
            continueCGETSession = OFFalse;
        }
        return EC_Normal;
    }
};


std::string peerName(const lbx_dimse_peer *peer) {
    return std::string(peer->called_ae_title) + "@" + peer->host + ":" + std::to_string(peer->port);
}

/// Sets up the SCU for `peer` and opens the association; the failure is worded for the peer.
lbx_status open(Scu &scu, const lbx_dimse_peer *peer, lbx_dimse_error *error) {
    if (peer == nullptr || peer->host == nullptr || peer->called_ae_title == nullptr || peer->calling_ae_title == nullptr) {
        return failDimse(error, LBX_DIMSE_OTHER, "a peer needs a host, a called and a calling AE title");
    }
    scu.setPeerHostName(peer->host);
    scu.setPeerPort(peer->port);
    scu.setPeerAETitle(peer->called_ae_title);
    scu.setAETitle(peer->calling_ae_title);
    scu.setConnectionTimeout(orDefault(peer->connect_timeout));
    scu.setACSETimeout(static_cast<Uint32>(orDefault(peer->acse_timeout)));
    scu.setDIMSETimeout(static_cast<Uint32>(orDefault(peer->dimse_timeout)));
    scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scu.setMaxReceivePDULength(ASC_DEFAULTMAXPDU);
    // A socket read never waits longer than a DIMSE message may.
    dcmSocketReceiveTimeout.set(orDefault(peer->dimse_timeout));
    dcmSocketSendTimeout.set(orDefault(peer->dimse_timeout));
    OFCondition condition = scu.initNetwork();
    if (condition.bad()) return failDimse(error, LBX_DIMSE_OTHER, "cannot start the network: " + std::string(condition.text()));
    condition = scu.negotiateAssociation();
    if (condition.bad()) {
        const lbx_dimse_failure failure = classify(condition);
        std::string reason;
        switch (failure) {
        case LBX_DIMSE_REJECTED:
            reason = "the association was rejected (is the called AE title right, and is " + std::string(peer->calling_ae_title) +
                     " registered on the PACS?)";
            break;
        case LBX_DIMSE_ABORTED:
            reason = "the peer aborted the association (is " + std::string(peer->calling_ae_title) + " registered on the PACS?)";
            break;
        case LBX_DIMSE_CONNECT:
            reason = "cannot connect (" + std::string(condition.text()) + ")";
            break;
        case LBX_DIMSE_TIMEOUT:
            reason = "no answer to the association request within " + std::to_string(orDefault(peer->acse_timeout)) + " s";
            break;
        case LBX_DIMSE_NO_CONTEXT:
            reason = "the peer accepted none of the services asked for";
            break;
        default:
            reason = condition.text();
        }
        // A peer that accepts TCP and never answers shows as a failed request after the ACSE timeout.
        if (failure == LBX_DIMSE_CONNECT && std::string(condition.text()).find("imeout") != std::string::npos) {
            return failDimse(error, LBX_DIMSE_TIMEOUT, peerName(peer) + ": " + reason);
        }
        return failDimse(error, failure, peerName(peer) + ": " + reason);
    }
    return LBX_OK;
}

/// Opens the association and finds the study-root query/retrieve context `service` runs on.
lbx_status openFor(Scu &scu, const lbx_dimse_peer *peer, const char *abstractSyntax, const char *service,
                   T_ASC_PresentationContextID &context_id, lbx_dimse_error *error) {
    lbx_status opened = open(scu, peer, error);
    if (opened != LBX_OK) return opened;
    context_id = scu.findPresentationContextID(abstractSyntax, "");
    if (context_id == 0) {
        scu.releaseAssociation();
        return failDimse(error, LBX_DIMSE_NO_CONTEXT, peerName(peer) + ": the peer does not offer study-root " + service);
    }
    return LBX_OK;
}

lbx_status networkFailure(Scu &scu, const lbx_dimse_peer *peer, const char *what, const OFCondition &condition, lbx_dimse_error *error) {
    scu.abortAssociation();
    lbx_dimse_failure failure = classify(condition);
    std::string reason = condition.text();
    if (failure == LBX_DIMSE_TIMEOUT) reason = "no answer within " + std::to_string(orDefault(peer->dimse_timeout)) + " s";
    if (failure == LBX_DIMSE_OTHER) failure = LBX_DIMSE_ABORTED;
    if (failure == LBX_DIMSE_ABORTED) {
        reason = "the peer aborted the association (is " + std::string(peer->calling_ae_title) +
                 " registered on the PACS and allowed this service?)";
    }
    return failDimse(error, failure, peerName(peer) + ": " + what + " failed: " + reason);
}

/// The storage classes to negotiate: the caller's, or the built-in list.
std::vector<std::string> storageClasses(const char *const *sop_classes, size_t sop_class_count) {
    std::vector<std::string> classes;
    if (sop_classes != nullptr && sop_class_count > 0) {
        for (size_t index = 0; index < sop_class_count; ++index) classes.emplace_back(sop_classes[index]);
    } else {
        for (const char *uid : defaultStorageClasses) classes.emplace_back(uid);
    }
    return classes;
}

/// The retrieve's query: a study, one series of it, or instances of a series (UID list).
void retrieveQuery(DcmDataset &query, const char *study_uid, const char *series_uid, const char *sop_uid) {
    const char *queryLevel = sop_uid != nullptr ? "IMAGE" : (series_uid != nullptr ? "SERIES" : "STUDY");
    query.putAndInsertOFStringArray(DCM_QueryRetrieveLevel, queryLevel);
    query.putAndInsertOFStringArray(DCM_StudyInstanceUID, study_uid);
    if (series_uid != nullptr) query.putAndInsertOFStringArray(DCM_SeriesInstanceUID, series_uid);
    if (sop_uid != nullptr) query.putAndInsertOFStringArray(DCM_SOPInstanceUID, sop_uid);
}

std::string hexStatus(Uint16 status) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "%04X", status);
    return hex;
}

} // namespace

struct lbx_dimse_receiver {
    Receiver scp;
    std::thread thread;
    uint16_t port = 0;
    std::string aeTitle;
};

extern "C" {

lbx_status lbx_dimse_echo(const lbx_dimse_peer *peer, lbx_dimse_error *error) {
    return guarded(error != nullptr ? &error->error : nullptr, [&]() -> lbx_status {
        lbx_dicom_initialize();
        Scu scu;
        scu.addPresentationContext(UID_VerificationSOPClass, plainSyntaxes());
        lbx_status opened = open(scu, peer, error);
        if (opened != LBX_OK) return opened;
        OFCondition condition = scu.sendECHORequest(0);
        if (condition.bad()) return networkFailure(scu, peer, "C-ECHO", condition, error);
        scu.releaseAssociation();
        return LBX_OK;
    });
}

lbx_status lbx_dimse_find(const lbx_dimse_peer *peer, const char *level, const lbx_query_key *keys, size_t key_count,
                          lbx_dimse_match_fn on_match, void *context, lbx_dimse_error *error) {
    return guarded(error != nullptr ? &error->error : nullptr, [&]() -> lbx_status {
        lbx_dicom_initialize();
        if (level == nullptr || (key_count > 0 && keys == nullptr)) return failDimse(error, LBX_DIMSE_OTHER, "no query level or keys");
        Scu scu;
        scu.onMatch = on_match;
        scu.context = context;
        scu.addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel, plainSyntaxes());
        T_ASC_PresentationContextID context_id = 0;
        lbx_status opened = openFor(scu, peer, UID_FINDStudyRootQueryRetrieveInformationModel, "C-FIND", context_id, error);
        if (opened != LBX_OK) return opened;
        DcmDataset query;
        query.putAndInsertOFStringArray(DCM_QueryRetrieveLevel, level);
        for (size_t index = 0; index < key_count; ++index) {
            const DcmTagKey tag(keys[index].group, keys[index].element);
            query.putAndInsertOFStringArray(tag, keys[index].value != nullptr ? keys[index].value : "");
        }
        OFCondition condition = scu.sendFINDRequest(context_id, &query, nullptr);
        if (condition.bad() && !scu.cancelled) return networkFailure(scu, peer, "C-FIND", condition, error);
        scu.releaseAssociation();
        return LBX_OK;
    });
}

lbx_status lbx_dimse_get(const lbx_dimse_peer *peer, const char *study_uid, const char *series_uid, const char *sop_uid,
                         const char *const *sop_classes, size_t sop_class_count, const char *folder,
                         lbx_dimse_stored_fn on_stored, void *context, lbx_dimse_error *error) {
    return guarded(error != nullptr ? &error->error : nullptr, [&]() -> lbx_status {
        lbx_dicom_initialize();
        if (study_uid == nullptr || folder == nullptr) return failDimse(error, LBX_DIMSE_OTHER, "no study or folder");
        Scu scu;
        scu.onStored = on_stored;
        scu.context = context;
        scu.folder = folder;
        scu.addPresentationContext(UID_GETStudyRootQueryRetrieveInformationModel, plainSyntaxes());
        std::vector<std::string> classes = storageClasses(sop_classes, sop_class_count);
        const OFList<OFString> syntaxes = storageSyntaxes();
        if (classes.size() * syntaxes.size() <= 120) {
            // One context per class and syntax, so the PACS can send each instance as it is stored
            // (with one context of many syntaxes it would pick one and transcode the rest).
            for (const std::string &uid : classes) {
                for (const OFString &syntax : syntaxes) {
                    OFList<OFString> one;
                    one.push_back(syntax);
                    scu.addPresentationContext(uid.c_str(), one, ASC_SC_ROLE_SCP);
                }
            }
        } else {
            if (classes.size() > 120) classes.resize(120);
            for (const std::string &uid : classes) scu.addPresentationContext(uid.c_str(), syntaxes, ASC_SC_ROLE_SCP);
        }
        T_ASC_PresentationContextID context_id = 0;
        lbx_status opened = openFor(scu, peer, UID_GETStudyRootQueryRetrieveInformationModel, "C-GET", context_id, error);
        if (opened != LBX_OK) return opened;
        DcmDataset query;
        retrieveQuery(query, study_uid, series_uid, sop_uid);
        OFList<RetrieveResponse *> responses;
        OFCondition condition = scu.sendCGETRequest(context_id, &query, &responses);
        Uint16 finalStatus = STATUS_Success;
        if (!responses.empty()) finalStatus = responses.back()->m_status;
        for (RetrieveResponse *response : responses) delete response;
        if (!scu.storeFailure.empty()) {
            scu.abortAssociation();
            return failDimse(error, LBX_DIMSE_OTHER, peerName(peer) + ": C-GET stopped: " + scu.storeFailure);
        }
        if (condition.bad() && !scu.cancelled) return networkFailure(scu, peer, "C-GET", condition, error);
        scu.releaseAssociation();
        if (!scu.cancelled && finalStatus != STATUS_Success && finalStatus != STATUS_GET_Warning_SubOperationsCompleteOneOrMoreFailures) {
            return failDimse(error, LBX_DIMSE_STATUS, peerName(peer) + ": C-GET answered status 0x" + hexStatus(finalStatus), finalStatus);
        }
        if (scu.failed > 0 && !scu.cancelled) {
            return failDimse(error, LBX_DIMSE_STATUS, peerName(peer) + ": C-GET: " + std::to_string(scu.failed) +
                             " instance(s) could not be sent", finalStatus);
        }
        return LBX_OK;
    });
}

lbx_status lbx_dimse_receiver_start(uint16_t port, const char *ae_title, const char *const *sop_classes, size_t sop_class_count,
                                    int32_t timeout, lbx_dimse_receiver **receiver, lbx_dimse_error *error) {
    return guarded(error != nullptr ? &error->error : nullptr, [&]() -> lbx_status {
        lbx_dicom_initialize();
        if (receiver == nullptr || ae_title == nullptr || port == 0) {
            return failDimse(error, LBX_DIMSE_OTHER, "a storage port and an AE title are needed");
        }
        *receiver = nullptr;
        auto started = std::make_unique<lbx_dimse_receiver>();
        Receiver &scp = started->scp;
        scp.setPort(port);
        scp.setAETitle(ae_title);
        scp.setHostLookupEnabled(OFFalse);
        scp.setMaxReceivePDULength(ASC_DEFAULTMAXPDU);
        // Non-blocking with a short connection timeout, so a stop is seen within a second even
        // when no peer ever connects; each message may take the peer's timeout.
        scp.setConnectionBlockingMode(DUL_NOBLOCK);
        scp.setConnectionTimeout(1);
        scp.setACSETimeout(static_cast<Uint32>(orDefault(timeout)));
        scp.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        scp.setDIMSETimeout(static_cast<Uint32>(orDefault(timeout)));
        // The compressed syntaxes first: the sender keeps an instance as it is stored when it can.
        OFList<OFString> syntaxes;
        for (const char *uid : {UID_JPEGLSLosslessTransferSyntax, UID_JPEGLSLossyTransferSyntax, UID_JPEG2000LosslessOnlyTransferSyntax,
                                UID_JPEG2000TransferSyntax, UID_JPEGProcess14SV1TransferSyntax, UID_JPEGProcess14TransferSyntax,
                                UID_JPEGProcess1TransferSyntax, UID_JPEGProcess2_4TransferSyntax, UID_RLELosslessTransferSyntax,
                                UID_DeflatedExplicitVRLittleEndianTransferSyntax, UID_LittleEndianExplicitTransferSyntax,
                                UID_BigEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax}) {
            syntaxes.push_back(uid);
        }
        scp.addPresentationContext(UID_VerificationSOPClass, plainSyntaxes());
        std::vector<std::string> classes = storageClasses(nullptr, 0);
        for (const std::string &uid : storageClasses(sop_classes, sop_class_count)) {
            if (std::find(classes.begin(), classes.end(), uid) == classes.end()) classes.push_back(uid);
        }
        for (const std::string &uid : classes) scp.addPresentationContext(uid.c_str(), syntaxes);
        // DcmSCP::openListenPort turns dcmdata's automatic input correction off for the whole
        // process (a global): every file read afterwards, on any thread, would then keep invalid
        // padding (DSRDocument refuses such an SR). Put it back as it was.
        const OFBool correction = dcmEnableAutomaticInputDataCorrection.get();
        OFCondition condition = scp.openListenPort();
        dcmEnableAutomaticInputDataCorrection.set(correction);
        if (condition.bad()) {
            return failDimse(error, LBX_DIMSE_OTHER, "cannot listen on the storage port " + std::to_string(port) + " for C-MOVE (" +
                             condition.text() + "; is another program using it?)");
        }
        started->port = port;
        started->aeTitle = ae_title;
        lbx_dimse_receiver *handle = started.release();
        handle->thread = std::thread([handle]() {
            try {
                handle->scp.acceptAssociations();
            } catch (...) {
                std::lock_guard<std::mutex> guard(handle->scp.lock);
                handle->scp.internalFailure = "the storage SCP stopped on an internal error";
            }
        });
        *receiver = handle;
        return LBX_OK;
    });
}

lbx_status lbx_dimse_receiver_route(lbx_dimse_receiver *receiver, const char *study_uid, const char *folder, lbx_dimse_stored_fn on_stored,
                                    void *context, lbx_dimse_error *error) {
    return guarded(error != nullptr ? &error->error : nullptr, [&]() -> lbx_status {
        if (receiver == nullptr || study_uid == nullptr || folder == nullptr) return failDimse(error, LBX_DIMSE_OTHER, "no receiver, study or folder");
        std::lock_guard<std::mutex> guard(receiver->scp.lock);
        if (receiver->scp.routes.count(study_uid) > 0) {
            return failDimse(error, LBX_DIMSE_OTHER, std::string("study ") + study_uid + " is already being retrieved by C-MOVE");
        }
        Receiver::Route route;
        route.folder = folder;
        route.onStored = on_stored;
        route.context = context;
        receiver->scp.routes[study_uid] = route;
        return LBX_OK;
    });
}

void lbx_dimse_receiver_unroute(lbx_dimse_receiver *receiver, const char *study_uid) {
    if (receiver == nullptr || study_uid == nullptr) return;
    std::lock_guard<std::mutex> guard(receiver->scp.lock);
    receiver->scp.routes.erase(study_uid);
}

void lbx_dimse_receiver_stop(lbx_dimse_receiver *receiver) {
    if (receiver == nullptr) return;
    receiver->scp.stop = true;
    // Wake the listener: a connection that closes at once ends its wait for an association.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(receiver->port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        (void)::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address));
        ::close(fd);
    }
    if (receiver->thread.joinable()) receiver->thread.join();
    delete receiver;
}

lbx_status lbx_dimse_move(const lbx_dimse_peer *peer, lbx_dimse_receiver *receiver, const char *study_uid, const char *series_uid,
                          const char *sop_uid, lbx_dimse_error *error) {
    return guarded(error != nullptr ? &error->error : nullptr, [&]() -> lbx_status {
        lbx_dicom_initialize();
        if (study_uid == nullptr || receiver == nullptr) return failDimse(error, LBX_DIMSE_OTHER, "no study or storage SCP");
        Scu scu;
        scu.receiver = &receiver->scp;
        scu.movedStudy = study_uid;
        scu.addPresentationContext(UID_MOVEStudyRootQueryRetrieveInformationModel, plainSyntaxes());
        T_ASC_PresentationContextID context_id = 0;
        lbx_status opened = openFor(scu, peer, UID_MOVEStudyRootQueryRetrieveInformationModel, "C-MOVE", context_id, error);
        if (opened != LBX_OK) return opened;
        DcmDataset query;
        retrieveQuery(query, study_uid, series_uid, sop_uid);
        OFList<RetrieveResponse *> responses;
        OFCondition condition = scu.sendMOVERequest(context_id, receiver->aeTitle.c_str(), &query, &responses);
        Uint16 finalStatus = STATUS_Success;
        uint32_t failedSubops = 0;
        if (!responses.empty()) {
            finalStatus = responses.back()->m_status;
            failedSubops = responses.back()->m_numberOfFailedSubops;
        }
        for (RetrieveResponse *response : responses) delete response;
        const std::string storeFailure = receiver->scp.failure(study_uid);
        if (!storeFailure.empty()) {
            scu.abortAssociation();
            return failDimse(error, LBX_DIMSE_OTHER, peerName(peer) + ": C-MOVE stopped: " + storeFailure);
        }
        if (condition.bad() && !scu.cancelled) return networkFailure(scu, peer, "C-MOVE", condition, error);
        scu.releaseAssociation();
        if (scu.cancelled) return LBX_OK;
        if (finalStatus == STATUS_MOVE_Failed_MoveDestinationUnknown) {
            return failDimse(error, LBX_DIMSE_STATUS, peerName(peer) + ": the PACS does not know the move destination " + receiver->aeTitle +
                             " (register it there with this machine's address and port " + std::to_string(receiver->port) + ")", finalStatus);
        }
        if (finalStatus != STATUS_Success && finalStatus != STATUS_MOVE_Warning_SubOperationsCompleteOneOrMoreFailures) {
            // Orthanc answers C000 when it cannot open the association to the destination.
            return failDimse(error, LBX_DIMSE_STATUS, peerName(peer) + ": C-MOVE answered status 0x" + hexStatus(finalStatus) +
                             ": the PACS could not send to " + receiver->aeTitle + " (is it registered there with this machine's address and port " +
                             std::to_string(receiver->port) + ", and can the PACS reach that port?)", finalStatus);
        }
        if (failedSubops > 0) {
            return failDimse(error, LBX_DIMSE_STATUS, peerName(peer) + ": C-MOVE: " + std::to_string(failedSubops) +
                             " instance(s) could not be sent (can the PACS reach port " + std::to_string(receiver->port) + " on this machine?)", finalStatus);
        }
        return LBX_OK;
    });
}

lbx_status lbx_dimse_store(const lbx_dimse_peer *peer, const char *const *paths, size_t path_count, lbx_dimse_error *error) {
    return guarded(error != nullptr ? &error->error : nullptr, [&]() -> lbx_status {
        lbx_dicom_initialize();
        if (paths == nullptr && path_count > 0) return failDimse(error, LBX_DIMSE_OTHER, "no files");
        if (path_count == 0) return LBX_OK;
        // Each file's class with its own transfer syntax, and explicit little endian beside it.
        struct File {
            std::string path, sopClass, syntax;
        };
        std::vector<File> files;
        std::vector<std::pair<std::string, std::string>> contexts;
        for (size_t index = 0; index < path_count; ++index) {
            DcmFileFormat file;
            OFCondition condition = file.loadFile(paths[index], EXS_Unknown, EGL_noChange, 64);
            if (condition.bad()) return failDimse(error, LBX_DIMSE_OTHER, std::string(paths[index]) + ": cannot read: " + condition.text());
            OFString sopClass, syntax;
            file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sopClass);
            file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, syntax);
            if (sopClass.empty()) file.getDataset()->findAndGetOFString(DCM_SOPClassUID, sopClass);
            if (sopClass.empty()) return failDimse(error, LBX_DIMSE_OTHER, std::string(paths[index]) + ": no SOP Class UID");
            if (syntax.empty()) syntax = UID_LittleEndianExplicitTransferSyntax;
            files.push_back({paths[index], sopClass.c_str(), syntax.c_str()});
            const std::pair<std::string, std::string> key(sopClass.c_str(), syntax.c_str());
            if (std::find(contexts.begin(), contexts.end(), key) == contexts.end()) contexts.push_back(key);
        }
        Scu scu;
        for (const auto &context : contexts) {
            OFList<OFString> syntaxes;
            syntaxes.push_back(context.second.c_str());
            if (context.second != UID_LittleEndianExplicitTransferSyntax) syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
            scu.addPresentationContext(context.first.c_str(), syntaxes);
        }
        lbx_status opened = open(scu, peer, error);
        if (opened != LBX_OK) return opened;
        for (const File &file : files) {
            T_ASC_PresentationContextID context_id = scu.findPresentationContextID(file.sopClass.c_str(), file.syntax.c_str());
            if (context_id == 0) context_id = scu.findPresentationContextID(file.sopClass.c_str(), UID_LittleEndianExplicitTransferSyntax);
            if (context_id == 0) {
                scu.releaseAssociation();
                return failDimse(error, LBX_DIMSE_NO_CONTEXT, peerName(peer) + ": the peer does not accept " + file.sopClass + " objects (" +
                                 file.path + ")");
            }
            Uint16 status = 0;
            OFCondition condition = scu.sendSTORERequest(context_id, file.path.c_str(), nullptr, status);
            if (condition.bad()) return networkFailure(scu, peer, ("C-STORE of " + file.path).c_str(), condition, error);
            // Success, and the warnings (coercion, elements discarded), store it.
            if (status != STATUS_Success && (status & 0xF000) != 0xB000) {
                scu.releaseAssociation();
                return failDimse(error, LBX_DIMSE_STATUS, peerName(peer) + ": C-STORE of " + file.path + " answered status 0x" + hexStatus(status),
                                 status);
            }
        }
        scu.releaseAssociation();
        return LBX_OK;
    });
}

} // extern "C"
