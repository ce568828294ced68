"""The external-results benchmark's peer: highdicom writes a 300-frame binary SEG and a 100-group
TID 1500 SR over a CT series, then reads them back the way a Python pipeline would (highdicom's
segread and the masks by source instance; srread and the measurement groups with their regions).

Usage:
  python external_peer.py write CT_DIR OUT_DIR      writes OUT_DIR/seg-300.dcm and OUT_DIR/sr-100.dcm
  python external_peer.py read CT_DIR OUT_DIR N     prints the median of N timed reads as JSON
"""
import json
import pathlib
import sys
import time
import uuid
import warnings

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes

warnings.simplefilter("ignore")


def uid(seed: str) -> str:
    return hd.UID(f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, 'lightbox-bench/' + seed).int}")


def series(ct: pathlib.Path):
    images = [pydicom.dcmread(p) for p in sorted(ct.glob("*.dcm"))]
    images.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    return images


def write(ct: pathlib.Path, out: pathlib.Path):
    images = series(ct)
    rows, columns = images[0].Rows, images[0].Columns
    y, x = np.mgrid[0:rows, 0:columns]
    masks = np.zeros((len(images), rows, columns, 1), dtype=bool)
    for s in range(len(images)):
        cx, cy = columns / 2 + 60 * np.sin(s / 30), rows / 2 + 60 * np.cos(s / 30)
        masks[s, :, :, 0] = (x - cx) ** 2 + (y - cy) ** 2 <= 40 ** 2
    algorithm = hd.AlgorithmIdentificationSequence(name="Bench SEG AI", version="1.0", family=codes.cid7162.ArtificialIntelligence)
    seg = hd.seg.Segmentation(
        source_images=images, pixel_array=masks, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[hd.seg.SegmentDescription(
            segment_number=1, segment_label="Lesion", segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Nodule, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm, tracking_uid=uid("seg/track"), tracking_id="Lesion")],
        series_instance_uid=uid("seg/series"), series_number=900, sop_instance_uid=uid("seg/instance"), instance_number=1,
        manufacturer="Bench", manufacturer_model_name="Bench SEG AI", software_versions="1.0", device_serial_number="1")
    seg.save_as(out / "seg-300.dcm")
    groups = []
    for k in range(100):
        image = images[(k * 3) % len(images)]
        cx, cy = 100 + k, 120 + k
        polyline = np.array([[cx, cy], [cx + 20, cy], [cx + 20, cy + 20], [cx, cy + 20], [cx, cy]], dtype=np.float32)
        groups.append(hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=uid(f"sr/track/{k}"), identifier=f"Finding {k + 1}"),
            referenced_region=hd.sr.ImageRegion(graphic_type=hd.sr.GraphicTypeValues.POLYLINE, graphic_data=polyline,
                                                source_image=hd.sr.SourceImageForRegion.from_source_image(image)),
            finding_type=codes.SCT.Nodule, finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.Lung)],
            measurements=[hd.sr.Measurement(name=codes.SCT.Diameter, value=10.0 + k / 10, unit=codes.UCUM.Millimeter),
                          hd.sr.Measurement(name=codes.DCM.Probability, value=(k % 100) / 100, unit=codes.UCUM.NoUnits)]))
    context = hd.sr.ObservationContext(observer_device_context=hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(uid=uid("sr/device"), name="Bench SR AI", model_name="1.0")))
    report = hd.sr.MeasurementReport(observation_context=context, procedure_reported=codes.SCT.ImagingProcedure, imaging_measurements=groups)
    sr = hd.sr.Comprehensive3DSR(evidence=images, content=report, series_instance_uid=uid("sr/series"), series_number=901,
                                 sop_instance_uid=uid("sr/instance"), instance_number=1, manufacturer="Bench")
    sr.save_as(out / "sr-100.dcm")


def read(ct: pathlib.Path, out: pathlib.Path, repeats: int):
    # The study's image UIDs in slice order, as a viewer has them before reading the objects.
    uids = [ds.SOPInstanceUID for ds in series(ct)]
    seg_times, sr_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        seg = hd.seg.segread(out / "seg-300.dcm")
        masks = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, segment_numbers=[1])
        assert masks.shape[0] == len(uids) and masks.any()
        seg_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        sr = hd.sr.srread(out / "sr-100.dcm")
        found = 0
        for group in sr.content.get_planar_roi_measurement_groups():
            region = group.roi
            position = uids.index(region.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID) if region is not None else -1
            found += position >= 0 and group.tracking_uid is not None and len(group.get_measurements()) > 0
        assert found == 100, found
        sr_times.append(time.perf_counter() - start)
    print(json.dumps({"seg": sorted(seg_times)[repeats // 2], "sr": sorted(sr_times)[repeats // 2],
                      "highdicom": hd.__version__, "pydicom": pydicom.__version__}))


if __name__ == "__main__":
    command, ct, out = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    if command == "write":
        write(ct, out)
    else:
        read(ct, out, int(sys.argv[4]))
