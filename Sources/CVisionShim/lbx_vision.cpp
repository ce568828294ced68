// C++ over OpenCV DNN behind lbx_vision.h. Graph inputs and outputs are read from the ONNX
// protobuf here (OpenCV 4.6 does not list them), with every length checked against the buffer.
#include "lbx_vision.h"

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <new>
#include <set>
#include <string>
#include <vector>

namespace {

struct TensorInfo {
    std::string name;
    std::vector<int64_t> dims;
};

lbx_vision_status fail(lbx_vision_error *error, lbx_vision_status status, const std::string &message) {
    if (error != nullptr) std::snprintf(error->message, sizeof(error->message), "%s", message.c_str());
    return status;
}

template <typename Body>
lbx_vision_status guarded(lbx_vision_error *error, Body body) {
    try {
        return body();
    } catch (const cv::Exception &exception) {
        return fail(error, LBX_VISION_ERR_RUN, std::string("OpenCV: ") + exception.msg);
    } catch (const std::bad_alloc &) {
        return fail(error, LBX_VISION_ERR_INTERNAL, "out of memory");
    } catch (const std::exception &exception) {
        return fail(error, LBX_VISION_ERR_INTERNAL, std::string("internal error: ") + exception.what());
    } catch (...) {
        return fail(error, LBX_VISION_ERR_INTERNAL, "internal error: unknown exception");
    }
}

/// A bounds-checked reader of protobuf wire format.
struct Reader {
    const uint8_t *data;
    size_t size;
    size_t offset = 0;

    bool atEnd() const { return offset >= size; }

    bool varint(uint64_t &value) {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (offset >= size) return false;
            uint8_t byte = data[offset++];
            value |= uint64_t(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) return true;
        }
        return false;
    }

    /// Reads a field key; returns false at the end or on a malformed stream.
    bool field(uint32_t &number, uint32_t &wire) {
        uint64_t key = 0;
        if (!varint(key)) return false;
        number = uint32_t(key >> 3);
        wire = uint32_t(key & 7);
        return true;
    }

    bool bytes(Reader &inner) {
        uint64_t length = 0;
        if (!varint(length) || length > size - offset) return false;
        inner = Reader{data + offset, size_t(length)};
        offset += size_t(length);
        return true;
    }

    bool skip(uint32_t wire) {
        uint64_t ignored = 0;
        Reader inner{nullptr, 0};
        switch (wire) {
        case 0: return varint(ignored);
        case 1: if (size - offset < 8) return false; offset += 8; return true;
        case 2: return bytes(inner);
        case 5: if (size - offset < 4) return false; offset += 4; return true;
        default: return false;
        }
    }
};

bool readValueInfo(Reader reader, TensorInfo &info) {
    uint32_t number = 0, wire = 0;
    while (!reader.atEnd() && reader.field(number, wire)) {
        Reader inner{nullptr, 0};
        if (number == 1 && wire == 2) {
            if (!reader.bytes(inner)) return false;
            info.name.assign(reinterpret_cast<const char *>(inner.data), inner.size);
        } else if (number == 2 && wire == 2) {  // TypeProto
            if (!reader.bytes(inner)) return false;
            uint32_t n2 = 0, w2 = 0;
            while (!inner.atEnd() && inner.field(n2, w2)) {
                Reader tensor{nullptr, 0};
                if (n2 == 1 && w2 == 2) {  // tensor_type
                    if (!inner.bytes(tensor)) return false;
                    uint32_t n3 = 0, w3 = 0;
                    while (!tensor.atEnd() && tensor.field(n3, w3)) {
                        Reader shape{nullptr, 0};
                        if (n3 == 2 && w3 == 2) {  // shape
                            if (!tensor.bytes(shape)) return false;
                            uint32_t n4 = 0, w4 = 0;
                            while (!shape.atEnd() && shape.field(n4, w4)) {
                                Reader dim{nullptr, 0};
                                if (n4 == 1 && w4 == 2) {
                                    if (!shape.bytes(dim)) return false;
                                    int64_t value = -1;
                                    uint32_t n5 = 0, w5 = 0;
                                    while (!dim.atEnd() && dim.field(n5, w5)) {
                                        if (n5 == 1 && w5 == 0) {
                                            uint64_t v = 0;
                                            if (!dim.varint(v)) return false;
                                            value = int64_t(v);
                                        } else if (!dim.skip(w5)) {
                                            return false;
                                        }
                                    }
                                    info.dims.push_back(value);
                                } else if (!shape.skip(w4)) {
                                    return false;
                                }
                            }
                        } else if (!tensor.skip(w3)) {
                            return false;
                        }
                    }
                } else if (!inner.skip(w2)) {
                    return false;
                }
            }
        } else if (!reader.skip(wire)) {
            return false;
        }
    }
    return true;
}

/// Graph inputs (less initializers) and outputs of an ONNX ModelProto.
bool readGraphSignature(const std::vector<uchar> &buffer, std::vector<TensorInfo> &inputs, std::vector<TensorInfo> &outputs) {
    Reader model{buffer.data(), buffer.size()};
    uint32_t number = 0, wire = 0;
    bool sawGraph = false;
    while (!model.atEnd() && model.field(number, wire)) {
        if (number == 7 && wire == 2) {
            Reader graph{nullptr, 0};
            if (!model.bytes(graph)) return false;
            sawGraph = true;
            std::set<std::string> initializers;
            std::vector<TensorInfo> declared;
            uint32_t n = 0, w = 0;
            while (!graph.atEnd() && graph.field(n, w)) {
                Reader item{nullptr, 0};
                if ((n == 11 || n == 12) && w == 2) {
                    if (!graph.bytes(item)) return false;
                    TensorInfo info;
                    if (!readValueInfo(item, info)) return false;
                    (n == 11 ? declared : outputs).push_back(info);
                } else if (n == 5 && w == 2) {  // initializer TensorProto: name is field 8
                    if (!graph.bytes(item)) return false;
                    uint32_t n2 = 0, w2 = 0;
                    while (!item.atEnd() && item.field(n2, w2)) {
                        Reader text{nullptr, 0};
                        if (n2 == 8 && w2 == 2) {
                            if (!item.bytes(text)) return false;
                            initializers.insert(std::string(reinterpret_cast<const char *>(text.data), text.size));
                        } else if (!item.skip(w2)) {
                            return false;
                        }
                    }
                } else if (!graph.skip(w)) {
                    return false;
                }
            }
            for (const auto &info : declared) {
                if (initializers.count(info.name) == 0) inputs.push_back(info);
            }
        } else if (!model.skip(wire)) {
            return false;
        }
    }
    return sawGraph && !inputs.empty() && !outputs.empty();
}

void copyInfo(const TensorInfo &from, lbx_tensor_info *to) {
    std::memset(to, 0, sizeof(*to));
    std::snprintf(to->name, sizeof(to->name), "%s", from.name.c_str());
    to->rank = int32_t(from.dims.size() > 8 ? 8 : from.dims.size());
    for (int32_t i = 0; i < to->rank; ++i) to->dims[i] = from.dims[size_t(i)];
}

} // namespace

struct lbx_net {
    cv::dnn::Net net;
    std::vector<TensorInfo> inputs;
    std::vector<TensorInfo> outputs;
    std::vector<cv::Mat> results;
};

extern "C" {

lbx_vision_status lbx_net_load(const char *path, lbx_net **out, lbx_vision_error *error) {
    return guarded(error, [&]() -> lbx_vision_status {
        if (path == nullptr || out == nullptr) return fail(error, LBX_VISION_ERR_ARGUMENT, "no path");
        *out = nullptr;
        std::ifstream file(path, std::ios::binary);
        if (!file) return fail(error, LBX_VISION_ERR_IO, "cannot open the model file");
        std::vector<uchar> buffer((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        if (buffer.empty()) return fail(error, LBX_VISION_ERR_MODEL, "empty model file");
        auto *handle = new lbx_net();
        if (!readGraphSignature(buffer, handle->inputs, handle->outputs)) {
            delete handle;
            return fail(error, LBX_VISION_ERR_MODEL, "not an ONNX model (no graph with inputs and outputs)");
        }
        try {
            handle->net = cv::dnn::readNetFromONNX(buffer);
        } catch (const cv::Exception &exception) {
            delete handle;
            return fail(error, LBX_VISION_ERR_MODEL, std::string("OpenCV cannot import the model: ") + exception.msg);
        }
        if (handle->net.empty()) {
            delete handle;
            return fail(error, LBX_VISION_ERR_MODEL, "OpenCV imported an empty network");
        }
        handle->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        handle->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        *out = handle;
        return LBX_VISION_OK;
    });
}

void lbx_net_free(lbx_net *net) {
    try { delete net; } catch (...) {}
}

int32_t lbx_net_input_count(const lbx_net *net) { return net ? int32_t(net->inputs.size()) : 0; }
int32_t lbx_net_output_count(const lbx_net *net) { return net ? int32_t(net->outputs.size()) : 0; }

lbx_vision_status lbx_net_input(const lbx_net *net, int32_t index, lbx_tensor_info *info) {
    if (net == nullptr || info == nullptr || index < 0 || size_t(index) >= net->inputs.size()) return LBX_VISION_ERR_ARGUMENT;
    copyInfo(net->inputs[size_t(index)], info);
    return LBX_VISION_OK;
}

lbx_vision_status lbx_net_output(const lbx_net *net, int32_t index, lbx_tensor_info *info) {
    if (net == nullptr || info == nullptr || index < 0 || size_t(index) >= net->outputs.size()) return LBX_VISION_ERR_ARGUMENT;
    copyInfo(net->outputs[size_t(index)], info);
    return LBX_VISION_OK;
}

lbx_vision_status lbx_net_run(lbx_net *net, const float *input, const int64_t *dims, int32_t rank, lbx_vision_error *error) {
    return guarded(error, [&]() -> lbx_vision_status {
        if (net == nullptr || input == nullptr || dims == nullptr || rank < 1 || rank > 8) {
            return fail(error, LBX_VISION_ERR_ARGUMENT, "no network, input or shape");
        }
        const TensorInfo &declared = net->inputs.front();
        if (!declared.dims.empty()) {
            if (declared.dims.size() != size_t(rank)) return fail(error, LBX_VISION_ERR_SHAPE, "input rank differs from the model's");
            for (int32_t i = 0; i < rank; ++i) {
                if (declared.dims[size_t(i)] > 0 && declared.dims[size_t(i)] != dims[i]) {
                    return fail(error, LBX_VISION_ERR_SHAPE, "input dimension " + std::to_string(i) + " is " +
                                std::to_string(dims[i]) + ", the model wants " + std::to_string(declared.dims[size_t(i)]));
                }
            }
        }
        std::vector<int> sizes;
        for (int32_t i = 0; i < rank; ++i) {
            if (dims[i] <= 0 || dims[i] > (1 << 20)) return fail(error, LBX_VISION_ERR_SHAPE, "bad input dimension");
            sizes.push_back(int(dims[i]));
        }
        cv::Mat blob(rank, sizes.data(), CV_32F, const_cast<float *>(input));
        net->net.setInput(blob.clone(), declared.name);
        std::vector<cv::String> names;
        for (const auto &output : net->outputs) names.push_back(output.name);
        std::vector<cv::Mat> results;
        net->net.forward(results, names);
        if (results.size() != names.size()) return fail(error, LBX_VISION_ERR_RUN, "the network gave fewer outputs than declared");
        net->results.clear();
        for (auto &result : results) {
            cv::Mat converted;
            result.convertTo(converted, CV_32F);
            net->results.push_back(converted.isContinuous() ? converted : converted.clone());
        }
        return LBX_VISION_OK;
    });
}

lbx_vision_status lbx_net_result(const lbx_net *net, int32_t index, const float **data, lbx_tensor_info *info) {
    if (net == nullptr || data == nullptr || info == nullptr || index < 0 || size_t(index) >= net->results.size()) {
        return LBX_VISION_ERR_ARGUMENT;
    }
    const cv::Mat &mat = net->results[size_t(index)];
    std::memset(info, 0, sizeof(*info));
    std::snprintf(info->name, sizeof(info->name), "%s", net->outputs[size_t(index)].name.c_str());
    info->rank = mat.dims > 8 ? 8 : mat.dims;
    for (int i = 0; i < info->rank; ++i) info->dims[i] = mat.size[i];
    *data = mat.ptr<float>();
    return LBX_VISION_OK;
}

} // extern "C"

extern "C" const char *lbx_vision_version(void) { return CV_VERSION; }
