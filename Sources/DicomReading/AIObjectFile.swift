import CDicomShim
import Foundation
public import LightboxCore

/// A DICOM Segmentation read through DCMTK's dcmseg and dcmfg (in the shim): described once,
/// its frames unpacked one by one on demand.
public final class SegmentationFile: @unchecked Sendable {
    public let path: String
    public let object: SegmentationObject
    private let handle: OpaquePointer
    private let lock = NSLock()

    private init(path: String, object: SegmentationObject, handle: OpaquePointer) {
        self.path = path
        self.object = object
        self.handle = handle
    }

    deinit { lbx_ai_close(handle) }

    public static func open(_ path: String) throws(DicomError) -> SegmentationFile {
        let (handle, description) = try AIObjectJSON.open(path, lbx_seg_open)
        return SegmentationFile(path: path, object: description.segmentation(), handle: handle)
    }

    /// Frame `index` (from 0), one byte a pixel, row by row: 0/1 for a binary segmentation, the
    /// stored fraction (0…maximum) for a fractional one.
    public func frame(_ index: Int) throws(DicomError) -> [UInt8] {
        let count = object.geometry.rows * object.geometry.columns
        var pixels = [UInt8](repeating: 0, count: count)
        var error = lbx_error()
        lock.lock()
        let status = pixels.withUnsafeMutableBufferPointer { lbx_seg_frame(handle, index, $0.baseAddress, count, &error) }
        lock.unlock()
        if status != LBX_OK { throw DicomError(path: path, reason: ShimStatus.reason(status, error)) }
        return pixels
    }
}

/// A DICOM Parametric Map read through DCMTK's dcmpmap and dcmfg (in the shim).
public final class ParametricMapFile: @unchecked Sendable {
    public let path: String
    public let object: ParametricMapObject
    private let handle: OpaquePointer
    private let lock = NSLock()

    private init(path: String, object: ParametricMapObject, handle: OpaquePointer) {
        self.path = path
        self.object = object
        self.handle = handle
    }

    deinit { lbx_ai_close(handle) }

    public static func open(_ path: String) throws(DicomError) -> ParametricMapFile {
        let (handle, description) = try AIObjectJSON.open(path, lbx_pmap_open)
        return ParametricMapFile(path: path, object: description.parametricMap(), handle: handle)
    }

    /// Frame `index` (from 0) as stored values (converted to float), row by row.
    public func storedFrame(_ index: Int) throws(DicomError) -> [Float] {
        let count = object.geometry.rows * object.geometry.columns
        var values = [Float](repeating: 0, count: count)
        var error = lbx_error()
        lock.lock()
        let status = values.withUnsafeMutableBufferPointer { lbx_pmap_frame(handle, index, $0.baseAddress, count, &error) }
        lock.unlock()
        if status != LBX_OK { throw DicomError(path: path, reason: ShimStatus.reason(status, error)) }
        return values
    }

    /// Frame `index` in real-world values (the first mapping's slope and intercept; stored values
    /// when the map gives none).
    public func frame(_ index: Int) throws(DicomError) -> [Float] {
        let stored = try storedFrame(index)
        guard let mapping = object.mappings.first, mapping.slope != 1 || mapping.intercept != 0 else { return stored }
        return stored.map { mapping.value($0) }
    }
}

/// The shim's JSON description of a SEG or map (numbers as text).
struct AIObjectJSON: Decodable {
    struct Code: Decodable {
        var value: String
        var scheme: String
        var meaning: String
        var concept: CodedConcept { CodedConcept(value, scheme, meaning) }
    }
    struct Source: Decodable {
        var sopInstanceUID: String
        var sopClassUID: String?
        var frame: String?
    }
    struct Frame: Decodable {
        var segment: String?
        var position: String?
        var sources: [Source]?
    }
    struct Segment: Decodable {
        var number: String
        var label: String?
        var description: String?
        var algorithmType: String?
        var algorithmName: String?
        var algorithmIdentificationName: String?
        var algorithmVersion: String?
        var algorithmFamily: Code?
        var category: Code?
        var type: Code?
        var trackingID: String?
        var trackingUID: String?
    }
    struct Mapping: Decodable {
        var label: String?
        var explanation: String?
        var slope: String?
        var intercept: String?
        var firstValue: String?
        var lastValue: String?
        var lutEntries: String?
        var unit: Code?
    }

    var kind: String
    var sopClassUID: String?
    var sopInstanceUID: String?
    var seriesInstanceUID: String?
    var studyInstanceUID: String?
    var frameOfReferenceUID: String?
    var modality: String?
    var seriesDescription: String?
    var manufacturer: String?
    var modelName: String?
    var softwareVersions: String?
    var contentLabel: String?
    var contentDescription: String?
    var contentDate: String?
    var rows: String
    var columns: String
    var bitsAllocated: String?
    var pixelSpacing: String?
    var orientation: String?
    var segmentationType: String?
    var fractionalType: String?
    var maximumFractionalValue: String?
    var segments: [Segment]?
    var mappings: [Mapping]?
    var frames: [Frame]

    /// Opens `path` with the shim's `opener` (SEG or map) and reads its description; the handle
    /// is closed again when the description cannot be read.
    static func open(_ path: String, _ opener: (UnsafePointer<CChar>?, UnsafeMutablePointer<OpaquePointer?>?, UnsafeMutablePointer<lbx_error>?) -> lbx_status)
        throws(DicomError) -> (OpaquePointer, AIObjectJSON) {
        var error = lbx_error()
        var handle: OpaquePointer?
        let status = opener(path, &handle, &error)
        guard status == LBX_OK, let handle else { throw DicomError(path: path, reason: ShimStatus.reason(status, error)) }
        do { return (handle, try describe(handle, path: path)) } catch {
            lbx_ai_close(handle)
            throw error
        }
    }

    static func describe(_ handle: OpaquePointer, path: String) throws(DicomError) -> AIObjectJSON {
        final class Box { var data = Data() }
        let box = Box()
        var error = lbx_error()
        let status = lbx_ai_describe(handle, { context, json, length in
            guard let context, let json else { return }
            Unmanaged<Box>.fromOpaque(context).takeUnretainedValue().data = Data(bytes: json, count: length)
        }, Unmanaged.passUnretained(box).toOpaque(), &error)
        if status != LBX_OK { throw DicomError(path: path, reason: ShimStatus.reason(status, error)) }
        do { return try JSONDecoder().decode(AIObjectJSON.self, from: box.data) } catch {
            throw DicomError(path: path, reason: .malformed("the object's description could not be read (\(error))"))
        }
    }

    private static func numbers(_ text: String?) -> [Double] {
        (text ?? "").split(separator: "\\").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }

    var identity: AIObjectIdentity {
        AIObjectIdentity(sopClassUID: sopClassUID ?? "", sopInstanceUID: sopInstanceUID ?? "", seriesInstanceUID: seriesInstanceUID ?? "",
                         studyInstanceUID: studyInstanceUID ?? "", frameOfReferenceUID: frameOfReferenceUID ?? "", modality: modality ?? "",
                         seriesDescription: seriesDescription ?? "", manufacturer: manufacturer ?? "", modelName: modelName ?? "",
                         softwareVersions: softwareVersions ?? "", contentLabel: contentLabel ?? "",
                         contentDescription: contentDescription ?? "", contentDate: contentDate ?? "")
    }

    var geometry: AIObjectGeometry {
        let spacing = Self.numbers(pixelSpacing), cosines = Self.numbers(orientation)
        return AIObjectGeometry(rows: Int(rows) ?? 0, columns: Int(columns) ?? 0,
                                pixelSpacing: spacing.count == 2 ? spacing : nil, orientation: cosines.count == 6 ? cosines : nil)
    }

    var objectFrames: [AIObjectFrame] {
        frames.map { frame in
            let position = Self.numbers(frame.position)
            return AIObjectFrame(segment: frame.segment.flatMap { Int(Double($0) ?? -1) },
                                 sources: (frame.sources ?? []).filter { !$0.sopInstanceUID.isEmpty }.map {
                                     ImageReference(sopInstanceUID: $0.sopInstanceUID, sopClassUID: $0.sopClassUID ?? "",
                                                    frame: $0.frame.flatMap { Double($0) }.map { Int($0) })
                                 },
                                 position: position.count == 3 ? position : nil)
        }
    }

    func segmentation() -> SegmentationObject {
        let kind: SegmentationObject.Kind = segmentationType == "FRACTIONAL"
            ? .fractional(probability: fractionalType != "OCCUPANCY", maximum: Int(Double(maximumFractionalValue ?? "") ?? 255))
            : .binary
        let list = (segments ?? []).map { segment in
            SegmentationObject.Segment(
                number: Int(Double(segment.number) ?? 0), label: segment.label ?? "", description: segment.description ?? "",
                algorithmType: segment.algorithmType ?? "",
                algorithmName: [segment.algorithmName, segment.algorithmIdentificationName].compactMap { $0 }.first { !$0.isEmpty } ?? "",
                algorithmVersion: segment.algorithmVersion ?? "", algorithmFamily: segment.algorithmFamily?.concept,
                category: segment.category?.concept, type: segment.type?.concept, trackingID: segment.trackingID ?? "",
                trackingUID: segment.trackingUID ?? "")
        }
        return SegmentationObject(identity: identity, kind: kind, geometry: geometry, segments: list, frames: objectFrames)
    }

    func parametricMap() -> ParametricMapObject {
        let list = (mappings ?? []).map { mapping in
            ParametricMapObject.Mapping(label: mapping.label ?? "", explanation: mapping.explanation ?? "",
                                        slope: Double(mapping.slope ?? "") ?? 1, intercept: Double(mapping.intercept ?? "") ?? 0,
                                        unit: mapping.unit?.concept, firstValue: mapping.firstValue.flatMap(Double.init),
                                        lastValue: mapping.lastValue.flatMap(Double.init),
                                        tableEntries: mapping.lutEntries.flatMap { Double($0) }.map { Int($0) })
        }
        return ParametricMapObject(identity: identity, geometry: geometry, bitsAllocated: Int(Double(bitsAllocated ?? "") ?? 0),
                                   mappings: list, frames: objectFrames)
    }
}
