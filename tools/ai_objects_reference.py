"""Write other systems' AI results over the bundled CT phantom with highdicom (the reference
writer), and what each one holds, for Lightbox's tests of reading them.

Usage: python ai_objects_reference.py SAMPLES_DIR OUTPUT_DIR
Writes into OUTPUT_DIR:
  seg-binary.dcm       BINARY SEG, one segment per planted nodule (spheres from ground-truth.json)
  seg-fractional.dcm   FRACTIONAL (probability) SEG, one segment: a soft map around the nodules
  seg-planes.dcm       seg-binary with every source reference removed (plane positions only)
  pm-float.dcm         Parametric Map, 32-bit float, with its real-world value mapping
  pm-integer.dcm       Parametric Map, 16-bit unsigned with slope and intercept
  sr-nodules.dcm       TID 1500 SR: two nodules, one with a probability (POLYLINE on an image),
                       one without (an ELLIPSE in SCOORD3D)
  sr-outside.dcm       TID 1500 SR whose region (a POINT) is on an image outside the study
  liver.dcm            pydicom-data's real segmentation (copied when pydicom-data is installed)
  masks.u8             the masks handed to highdicom: one rows*columns byte plane per entry of
                       the manifest's "planes" (segment, source SOP Instance UID), 0/1 for BINARY,
                       0..255 stored for FRACTIONAL
  maps.f32             the parametric maps' real-world values, little-endian float32 planes
  bad/*.dcm            hostile variants (see the manifest's "bad": file and what is wrong)
  manifest.json        what each object holds, as highdicom wrote it
"""
import json
import pathlib
import shutil
import sys
import uuid
import warnings

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes
from pydicom.uid import ExplicitVRLittleEndian

warnings.simplefilter("ignore")

ALGORITHM = ("Vendor Nodule AI", "2.4.1")
SR_DEVICE = ("Vendor Report AI", "7.0")


def uid(seed: str) -> str:
    """A deterministic UID, so the fixtures are the same on every run."""
    return hd.UID(f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, 'lightbox-fixture/' + seed).int}")


def load_ct(samples: pathlib.Path):
    images = [pydicom.dcmread(p) for p in sorted((samples / "chest-ct").glob("*.dcm"))]
    # Along the slice normal (z up), the order the viewer shows and the ground truth counts.
    images.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    truth = next(s for s in json.loads((samples / "ground-truth.json").read_text()) if s["folder"] == "chest-ct")
    return images, truth["lesions"]


def sphere_masks(images, lesions) -> np.ndarray:
    """(slices, rows, columns, segments) bool: each nodule as a sphere of its radius."""
    rows, columns = images[0].Rows, images[0].Columns
    spacing = float(images[0].PixelSpacing[0])
    y, x = np.mgrid[0:rows, 0:columns]
    masks = np.zeros((len(images), rows, columns, len(lesions)), dtype=bool)
    for s, ds in enumerate(images):
        z = float(ds.ImagePositionPatient[2])
        for k, lesion in enumerate(lesions):
            dz = z - lesion["positionZ"]
            r2 = lesion["radiusMillimetres"] ** 2 - dz * dz
            if r2 <= 0:
                continue
            d2 = ((x - lesion["centerX"]) * spacing) ** 2 + ((y - lesion["centerY"]) * spacing) ** 2
            masks[s, :, :, k] = d2 <= r2
    return masks


def soft_map(images, lesions) -> np.ndarray:
    """(slices, rows, columns) float in [0, 1]: a Gaussian bump per nodule."""
    rows, columns = images[0].Rows, images[0].Columns
    spacing = float(images[0].PixelSpacing[0])
    y, x = np.mgrid[0:rows, 0:columns]
    values = np.zeros((len(images), rows, columns), dtype=np.float32)
    for s, ds in enumerate(images):
        z = float(ds.ImagePositionPatient[2])
        for lesion in lesions:
            d2 = ((x - lesion["centerX"]) * spacing) ** 2 + ((y - lesion["centerY"]) * spacing) ** 2 + (z - lesion["positionZ"]) ** 2
            sigma = lesion["radiusMillimetres"]
            values[s] = np.maximum(values[s], np.exp(-d2 / (2 * sigma * sigma)))
    values[values < 0.02] = 0
    return values


def equipment(seed: str, model: str, version: str) -> dict:
    return dict(series_instance_uid=uid(seed + "/series"), series_number=900 + len(seed) % 50,
                sop_instance_uid=uid(seed + "/instance"), instance_number=1, manufacturer="Vendor",
                manufacturer_model_name=model, software_versions=version, device_serial_number="SN-0001")


def write_segs(out: pathlib.Path, images, lesions, manifest, planes, plane_bytes):
    masks = sphere_masks(images, lesions)
    algorithm = hd.AlgorithmIdentificationSequence(name=ALGORITHM[0], version=ALGORITHM[1],
                                                   family=codes.cid7162.ArtificialIntelligence)
    descriptions = [hd.seg.SegmentDescription(
        segment_number=k + 1, segment_label=f"Nodule {k + 1}",
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Nodule, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=algorithm, tracking_uid=uid(f"seg-binary/track/{k + 1}"),
        tracking_id=f"Nodule {k + 1}") for k in range(len(lesions))]
    seg = hd.seg.Segmentation(source_images=images, pixel_array=masks,
                              segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
                              segment_descriptions=descriptions, omit_empty_frames=True,
                              **equipment("seg-binary", ALGORITHM[0], ALGORITHM[1]))
    seg.save_as(out / "seg-binary.dcm")
    entry = describe_seg(seg, "seg-binary.dcm")
    for k in range(len(lesions)):
        for s, ds in enumerate(images):
            if masks[s, :, :, k].any():
                planes.append({"object": "seg-binary.dcm", "segment": k + 1, "source": ds.SOPInstanceUID,
                               "slice": s, "pixels": int(masks[s, :, :, k].sum())})
                plane_bytes.append(masks[s, :, :, k].astype(np.uint8).tobytes())
    manifest["objects"].append(entry)

    # The same segmentation with every source reference removed: only plane positions place it.
    planes_only = pydicom.dcmread(out / "seg-binary.dcm")
    for item in planes_only.PerFrameFunctionalGroupsSequence:
        if "DerivationImageSequence" in item:
            del item.DerivationImageSequence
    for keyword in ("ReferencedSeriesSequence", "SourceImageSequence"):
        if keyword in planes_only:
            delattr(planes_only, keyword)
    planes_only.SOPInstanceUID = planes_only.file_meta.MediaStorageSOPInstanceUID = uid("seg-planes/instance")
    planes_only.SeriesInstanceUID = uid("seg-planes/series")
    planes_only.save_as(out / "seg-planes.dcm")
    entry = dict(describe_seg(seg, "seg-planes.dcm"), sopInstanceUID=planes_only.SOPInstanceUID)
    for frame in entry["frames"]:
        frame["source"] = None
    manifest["objects"].append(entry)

    # Fractional: probabilities, stored 0..255.
    probability = soft_map(images, lesions)
    fractional = hd.seg.Segmentation(
        source_images=images, pixel_array=probability,
        segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL,
        fractional_type=hd.seg.SegmentationFractionalTypeValues.PROBABILITY, max_fractional_value=255,
        segment_descriptions=[hd.seg.SegmentDescription(
            segment_number=1, segment_label="Nodule probability",
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Nodule, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm, tracking_uid=uid("seg-fractional/track/1"),
            tracking_id="Nodule probability")],
        omit_empty_frames=True, **equipment("seg-fractional", ALGORITHM[0], ALGORITHM[1]))
    fractional.save_as(out / "seg-fractional.dcm")
    manifest["objects"].append(describe_seg(fractional, "seg-fractional.dcm"))
    stored = np.rint(probability * 255).astype(np.uint8)
    for s, ds in enumerate(images):
        if stored[s].any():
            planes.append({"object": "seg-fractional.dcm", "segment": 1, "source": ds.SOPInstanceUID,
                           "slice": s, "pixels": int((stored[s] > 0).sum())})
            plane_bytes.append(stored[s].tobytes())
    return seg


def describe_seg(seg, name: str) -> dict:
    frames = []
    shared = seg.SharedFunctionalGroupsSequence[0]
    for item in seg.PerFrameFunctionalGroupsSequence:
        identification = item if "SegmentIdentificationSequence" in item else shared
        source = None
        if "DerivationImageSequence" in item:
            source = item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        frames.append({"segment": int(identification.SegmentIdentificationSequence[0].ReferencedSegmentNumber),
                       "source": source,
                       "position": [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient]})
    segments = []
    for item in seg.SegmentSequence:
        algorithm = item.get("SegmentationAlgorithmIdentificationSequence")
        segments.append({
            "number": int(item.SegmentNumber), "label": item.SegmentLabel,
            "algorithmType": item.SegmentAlgorithmType,
            "algorithmName": str(item.get("SegmentAlgorithmName", "")),
            "algorithmVersion": str(algorithm[0].AlgorithmVersion) if algorithm else "",
            "category": code_of(item.SegmentedPropertyCategoryCodeSequence[0]),
            "type": code_of(item.SegmentedPropertyTypeCodeSequence[0]),
            "trackingID": str(item.get("TrackingID", "")), "trackingUID": str(item.get("TrackingUID", "")),
        })
    return {"file": name, "kind": "SEG", "sopInstanceUID": seg.SOPInstanceUID, "segmentationType": seg.SegmentationType,
            "rows": int(seg.Rows), "columns": int(seg.Columns), "frameOfReferenceUID": seg.FrameOfReferenceUID,
            "segments": segments, "frames": frames}


def code_of(item) -> dict:
    if hasattr(item, "scheme_designator"):
        return {"value": item.value, "scheme": item.scheme_designator, "meaning": item.meaning}
    return {"value": item.CodeValue, "scheme": item.CodingSchemeDesignator, "meaning": item.CodeMeaning}


def write_maps(out: pathlib.Path, images, lesions, manifest, map_planes, map_bytes):
    subset = images[:8]
    values = soft_map(subset, lesions)
    mapping = hd.pm.RealWorldValueMapping(lut_label="PROB", lut_explanation="Nodule probability",
                                          unit=codes.UCUM.NoUnits, value_range=(0.0, 1.0), slope=1, intercept=0)
    pm = hd.pm.ParametricMap(source_images=subset, pixel_array=values, contains_recognizable_visual_features=False,
                             real_world_value_mappings=[mapping], window_center=0.5, window_width=1.0,
                             content_label="PROBABILITY", **equipment("pm-float", "Vendor Map AI", "1.2"))
    pm.save_as(out / "pm-float.dcm")
    manifest["objects"].append(describe_map(pm, "pm-float.dcm", subset, mapping_of(pm)))
    for s, ds in enumerate(subset):
        map_planes.append({"object": "pm-float.dcm", "source": ds.SOPInstanceUID, "slice": s})
        map_bytes.append(values[s].astype("<f4").tobytes())
    # Integer: stored 0..1000, real-world value = stored * 0.001.
    stored = np.rint(values * 1000).astype(np.uint16)
    integer_mapping = hd.pm.RealWorldValueMapping(lut_label="PROB", lut_explanation="Nodule probability (per mille)",
                                                  unit=codes.UCUM.NoUnits, value_range=(0, 1000), slope=0.001, intercept=0)
    pmi = hd.pm.ParametricMap(source_images=subset, pixel_array=stored, contains_recognizable_visual_features=False,
                              real_world_value_mappings=[integer_mapping], window_center=500, window_width=1000,
                              content_label="PROBABILITY", **equipment("pm-integer", "Vendor Map AI", "1.2"))
    pmi.save_as(out / "pm-integer.dcm")
    manifest["objects"].append(describe_map(pmi, "pm-integer.dcm", subset, mapping_of(pmi)))
    for s, ds in enumerate(subset):
        map_planes.append({"object": "pm-integer.dcm", "source": ds.SOPInstanceUID, "slice": s})
        map_bytes.append((stored[s].astype(np.float64) * 0.001).astype("<f4").tobytes())


def mapping_of(pm) -> dict:
    item = pm.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    return {"label": item.LUTLabel, "explanation": item.LUTExplanation,
            "slope": float(item.RealWorldValueSlope), "intercept": float(item.RealWorldValueIntercept),
            "unit": code_of(item.MeasurementUnitsCodeSequence[0])}


def describe_map(pm, name, subset, mapping) -> dict:
    return {"file": name, "kind": "PM", "sopInstanceUID": pm.SOPInstanceUID, "rows": int(pm.Rows),
            "columns": int(pm.Columns), "frames": int(pm.NumberOfFrames), "bitsAllocated": int(pm.BitsAllocated),
            "sources": [ds.SOPInstanceUID for ds in subset], "mapping": mapping}


def write_reports(out: pathlib.Path, images, lesions, manifest):
    spacing = float(images[0].PixelSpacing[0])
    first = lesions[0]
    peak1 = images[(first["firstSlice"] + first["lastSlice"]) // 2]
    r1 = first["radiusMillimetres"] / spacing
    cx, cy = first["centerX"], first["centerY"]
    polyline = np.array([[cx - r1, cy - r1], [cx + r1, cy - r1], [cx + r1, cy + r1], [cx - r1, cy + r1], [cx - r1, cy - r1]],
                        dtype=np.float32)
    algorithm = hd.sr.AlgorithmIdentification(name=SR_DEVICE[0], version=SR_DEVICE[1])
    group1 = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=uid("sr-nodules/track/1"), identifier="Nodule A"),
        referenced_region=hd.sr.ImageRegion(graphic_type=hd.sr.GraphicTypeValues.POLYLINE, graphic_data=polyline,
                                            source_image=hd.sr.SourceImageForRegion.from_source_image(peak1)),
        finding_type=codes.SCT.Nodule, algorithm_id=algorithm,
        finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.Lung, laterality=codes.SCT.Right)],
        measurements=[
            hd.sr.Measurement(name=codes.SCT.Diameter, value=2 * first["radiusMillimetres"], unit=codes.UCUM.Millimeter),
            hd.sr.Measurement(name=codes.DCM.Probability, value=0.87, unit=codes.UCUM.NoUnits),
        ],
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(name=codes.SCT.Nodule, value=codes.SCT.MorphologicallyAbnormalStructure)])
    second = lesions[1]
    frame = images[0].FrameOfReferenceUID
    peak2 = images[(second["firstSlice"] + second["lastSlice"]) // 2]
    ox, oy = float(peak2.ImagePositionPatient[0]), float(peak2.ImagePositionPatient[1])
    x2, y2 = ox + second["centerX"] * spacing, oy + second["centerY"] * spacing
    r2 = second["radiusMillimetres"]
    z2 = float(second["positionZ"])
    ellipse = np.array([[x2 - r2, y2, z2], [x2 + r2, y2, z2], [x2, y2 - r2, z2], [x2, y2 + r2, z2]], dtype=np.float32)
    group2 = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=uid("sr-nodules/track/2"), identifier="Nodule B"),
        referenced_region=hd.sr.ImageRegion3D(graphic_type=hd.sr.GraphicTypeValues3D.ELLIPSE, graphic_data=ellipse,
                                              frame_of_reference_uid=frame),
        finding_type=codes.SCT.Nodule, algorithm_id=algorithm,
        finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.Lung, laterality=codes.SCT.Left)],
        measurements=[hd.sr.Measurement(name=codes.SCT.Diameter, value=2 * r2, unit=codes.UCUM.Millimeter)])
    context = hd.sr.ObservationContext(observer_device_context=hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=uid("sr-device"), name=SR_DEVICE[0], manufacturer_name="Vendor", model_name=SR_DEVICE[1])))
    report = hd.sr.MeasurementReport(observation_context=context, procedure_reported=codes.SCT.ImagingProcedure,
                                     imaging_measurements=[group1, group2])
    sr = hd.sr.Comprehensive3DSR(evidence=images, content=report, **sr_equipment("sr-nodules"))
    sr.save_as(out / "sr-nodules.dcm")
    manifest["objects"].append({
        "file": "sr-nodules.dcm", "kind": "SR", "sopInstanceUID": sr.SOPInstanceUID,
        "device": {"name": SR_DEVICE[0], "model": SR_DEVICE[1], "uid": uid("sr-device")},
        "groups": [
            {"trackingID": "Nodule A", "trackingUID": uid("sr-nodules/track/1"), "findingType": code_of(codes.SCT.Nodule),
             "findingSites": [code_of(codes.SCT.Lung)], "laterality": code_of(codes.SCT.Right),
             "measurements": [{"concept": code_of(codes.SCT.Diameter), "value": 2 * first["radiusMillimetres"], "unit": "mm"},
                              {"concept": code_of(codes.DCM.Probability), "value": 0.87, "unit": "1"}],
             "qualitative": [{"concept": code_of(codes.SCT.Nodule), "value": code_of(codes.SCT.MorphologicallyAbnormalStructure)}],
             "region": {"graphicType": "POLYLINE", "image": peak1.SOPInstanceUID, "points": polyline.ravel().tolist()},
             "probability": 0.87, "slice": (first["firstSlice"] + first["lastSlice"]) // 2},
            {"trackingID": "Nodule B", "trackingUID": uid("sr-nodules/track/2"), "findingType": code_of(codes.SCT.Nodule),
             "findingSites": [code_of(codes.SCT.Lung)], "laterality": code_of(codes.SCT.Left),
             "measurements": [{"concept": code_of(codes.SCT.Diameter), "value": 2 * r2, "unit": "mm"}],
             "qualitative": [],
             "region": {"graphicType": "ELLIPSE", "frameOfReferenceUID": frame, "points": ellipse.ravel().tolist()},
             "probability": None, "slice": (second["firstSlice"] + second["lastSlice"]) // 2},
        ]})

    # A report whose only region lies on an image outside the study.
    outside = pydicom.Dataset()
    outside.SOPClassUID, outside.SOPInstanceUID = images[0].SOPClassUID, uid("outside-image")
    outside.StudyInstanceUID, outside.SeriesInstanceUID = uid("outside-study"), uid("outside-series")
    point = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=uid("sr-outside/track/1"), identifier="Elsewhere"),
        referenced_region=hd.sr.ImageRegion(graphic_type=hd.sr.GraphicTypeValues.POINT,
                                            graphic_data=np.array([[10.0, 20.0]], dtype=np.float32),
                                            source_image=hd.sr.SourceImageForRegion(
                                                referenced_sop_class_uid=outside.SOPClassUID,
                                                referenced_sop_instance_uid=outside.SOPInstanceUID)),
        finding_type=codes.SCT.Nodule,
        measurements=[hd.sr.Measurement(name=codes.DCM.Probability, value=0.4, unit=codes.UCUM.NoUnits)])
    report = hd.sr.MeasurementReport(observation_context=context, procedure_reported=codes.SCT.ImagingProcedure,
                                     imaging_measurements=[point])
    sr = hd.sr.Comprehensive3DSR(evidence=images + [outside], content=report, **sr_equipment("sr-outside"))
    sr.save_as(out / "sr-outside.dcm")
    manifest["objects"].append({
        "file": "sr-outside.dcm", "kind": "SR", "sopInstanceUID": sr.SOPInstanceUID,
        "groups": [{"trackingID": "Elsewhere", "trackingUID": uid("sr-outside/track/1"),
                    "region": {"graphicType": "POINT", "image": outside.SOPInstanceUID, "points": [10.0, 20.0]},
                    "probability": 0.4, "outsideStudy": True}]})


def sr_equipment(seed: str) -> dict:
    return dict(series_instance_uid=uid(seed + "/series"), series_number=950, sop_instance_uid=uid(seed + "/instance"),
                instance_number=1, manufacturer="Vendor")


def write_bad(out: pathlib.Path, manifest):
    bad = out / "bad"
    bad.mkdir(exist_ok=True)
    entries = manifest["bad"]

    def variant(source: str, name: str, why: str, change):
        ds = pydicom.dcmread(out / source)
        change(ds)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid("bad/" + name)
        ds.save_as(bad / name)
        entries.append({"file": "bad/" + name, "why": why})

    def wrong_segment(ds):
        ds.PerFrameFunctionalGroupsSequence[0].SegmentIdentificationSequence[0].ReferencedSegmentNumber = 7
    variant("seg-binary.dcm", "seg-segment-number.dcm", "a frame names segment 7 of 3", wrong_segment)

    def more_frames(ds):
        ds.NumberOfFrames = int(ds.NumberOfFrames) + 5
    variant("seg-binary.dcm", "seg-frame-count.dcm", "Number of Frames exceeds the frames and the pixel data", more_frames)

    def cut_short(ds):
        ds.PixelData = ds.PixelData[: len(ds.PixelData) // 2 + 1]
    variant("seg-binary.dcm", "seg-cut-short.dcm", "the packed 1-bit pixel data stops half-way", cut_short)

    def other_size(ds):
        # Rows and Columns halved with the pixel data to match: frames no longer the image's size.
        rows, columns, frames = ds.Rows // 2, ds.Columns // 2, int(ds.NumberOfFrames)
        ds.Rows, ds.Columns = rows, columns
        ds.PixelData = np.packbits(np.zeros(rows * columns * frames, dtype=np.uint8), bitorder="little").tobytes()
    variant("seg-binary.dcm", "seg-other-size.dcm", "frames of half the source image's size", other_size)

    def unknown_sources(ds):
        for k, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
            item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID = uid(f"nothing/{k}")
    variant("seg-binary.dcm", "seg-unknown-sources.dcm", "every source reference names an image nowhere", unknown_sources)

    def map_size(ds):
        rows, columns, frames = ds.Rows // 2, ds.Columns // 2, int(ds.NumberOfFrames)
        ds.Rows, ds.Columns = rows, columns
        ds.FloatPixelData = np.zeros(rows * columns * frames, dtype="<f4").tobytes()
    variant("pm-float.dcm", "pm-other-size.dcm", "a map of half the image's size", map_size)

    def unknown_scheme(ds):
        def walk(items):
            for item in items:
                if "ConceptNameCodeSequence" in item and item.ConceptNameCodeSequence[0].CodeValue == "27925004":
                    item.ConceptNameCodeSequence[0].CodingSchemeDesignator = "ZZNOSUCH"
                if "ConceptCodeSequence" in item and item.ConceptCodeSequence[0].CodeValue == "27925004":
                    item.ConceptCodeSequence[0].CodingSchemeDesignator = "ZZNOSUCH"
                walk(item.get("ContentSequence", []))
        walk(ds.ContentSequence)
    variant("sr-nodules.dcm", "sr-unknown-scheme.dcm", "the finding code's scheme is unknown", unknown_scheme)

    def cycle(ds):
        # A by-reference item pointing at its own ancestor: following references would loop.
        groups = [item for item in ds.ContentSequence if "ContentSequence" in item]
        container = groups[-1]
        ref = pydicom.Dataset()
        ref.RelationshipType = "HAS PROPERTIES"
        ref.ReferencedContentItemIdentifier = [1, len(ds.ContentSequence)]
        container.ContentSequence.append(ref)
    variant("sr-nodules.dcm", "sr-cycle.dcm", "a content item references its own ancestor", cycle)

    def dangling(ds):
        ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID = uid("nothing/evidence")
    variant("sr-nodules.dcm", "sr-dangling-evidence.dcm", "the evidence names an image nowhere", dangling)


def main():
    samples, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    images, lesions = load_ct(samples)
    manifest = {"study": images[0].StudyInstanceUID, "highdicom": hd.__version__, "pydicom": pydicom.__version__,
                "rows": int(images[0].Rows), "columns": int(images[0].Columns),
                "objects": [], "planes": [], "mapPlanes": [], "bad": []}
    plane_bytes, map_bytes = [], []
    write_segs(out, images, lesions, manifest, manifest["planes"], plane_bytes)
    write_maps(out, images, lesions, manifest, manifest["mapPlanes"], map_bytes)
    write_reports(out, images, lesions, manifest)
    write_bad(out, manifest)
    (out / "masks.u8").write_bytes(b"".join(plane_bytes))
    (out / "maps.f32").write_bytes(b"".join(map_bytes))
    try:
        from pydicom.data import get_testdata_file
        liver = get_testdata_file("liver.dcm", download=False)
    except Exception:
        liver = None
    if liver:
        shutil.copy(liver, out / "liver.dcm")
        seg = hd.seg.segread(out / "liver.dcm")
        entry = describe_seg(seg, "liver.dcm")
        entry["pixelsPerSegment"] = {}
        pixels = seg.pixel_array.reshape(len(entry["frames"]), seg.Rows, seg.Columns)
        for k, frame in enumerate(entry["frames"]):
            key = str(frame["segment"])
            entry["pixelsPerSegment"][key] = entry["pixelsPerSegment"].get(key, 0) + int((pixels[k] > 0).sum())
        manifest["objects"].append(entry)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
