import Foundation
import LightboxCore
import TerminalUI

/// Zoom, pan, zoom to a finding and the pixel probe: what the view keys do to the viewer state.
extension Review {
    static func viewAction(_ state: inout AppState, _ action: Action) {
        guard var viewer = state.viewer else { return }
        switch action {
        case .zoomIn:
            if !viewer.viewport.zoomIn() { state.message = "Zoom \(viewer.viewport.zoom)× is the closest" }
            viewer.followFinding = false
        case .zoomOut:
            if !viewer.viewport.zoomOut() { state.message = "The whole image is shown (1×)" }
            viewer.followFinding = false
        case .resetView:
            viewer.viewport = .whole
            viewer.followFinding = false
        case .panLeft, .panRight, .panUp, .panDown:
            let (dx, dy): (Double, Double) = switch action {
            case .panLeft: (-0.25, 0)
            case .panRight: (0.25, 0)
            case .panUp: (0, -0.25)
            default: (0, 0.25)
            }
            if !viewer.viewport.pan(dx: dx, dy: dy) { state.message = "At the image's edge" }
            viewer.followFinding = false
        case .zoomToFinding:
            state.viewer = viewer
            zoomToFinding(&state)
            return
        default: return
        }
        state.viewer = viewer
        keepProbeInView(&state)
    }

    /// Centres and zooms on the finding of the slice on screen (the AI's box, else the hottest
    /// region of the overlay) with a margin; n/p then keep the zoom and follow each finding.
    static func zoomToFinding(_ state: inout AppState) {
        guard let viewer = state.viewer else { return }
        guard state.overlayLabel != nil else { state.message = "No findings: no model is configured"; return }
        guard viewer.overlayKey == state.currentSlice?.key else {
            // The overlay of this slice is on its way: zoom when it arrives.
            state.viewer?.followFinding = true
            return
        }
        guard let box = findingBox(state) else {
            state.message = viewer.findingSlices.isEmpty ? "No findings in this series"
                : "No finding on this image: \(SidePanel.findingKeys(state)) go to one"
            return
        }
        let zoom = Viewport.level(fitting: box.width, box.height)
        state.viewer?.viewport = .centred(on: box.x + box.width / 2, box.y + box.height / 2, zoom: zoom)
        state.viewer?.followFinding = true
        keepProbeInView(&state)
    }

    /// After n/p with "zoom to finding" on: the new slice's finding is centred at the same zoom.
    static func followFinding(_ state: inout AppState) {
        guard let viewer = state.viewer, let box = findingBox(state) else { return }
        let zoom = viewer.viewport.isWhole ? Viewport.level(fitting: box.width, box.height) : viewer.viewport.zoom
        state.viewer?.viewport = .centred(on: box.x + box.width / 2, box.y + box.height / 2, zoom: zoom)
        keepProbeInView(&state)
    }

    /// The finding on screen as a box in fractions of the slice: the AI finding's box (in the
    /// cells of the heatmap on screen) when the slice lies in one, else the overlay's hottest region.
    static func findingBox(_ state: AppState) -> NormalisedRegion? {
        guard let viewer = state.viewer, let heatmap = viewer.overlay, viewer.overlayKey == state.currentSlice?.key else { return nil }
        if let index = state.currentFinding, let result = state.activeResult, index < result.findings.count {
            let box = result.findings[index].finding.box
            if box.count == 4, box[0] + box[2] <= heatmap.width, box[1] + box[3] <= heatmap.height, box[2] > 0, box[3] > 0 {
                return NormalisedRegion(x: Double(box[0]) / Double(heatmap.width), y: Double(box[1]) / Double(heatmap.height),
                                        width: Double(box[2]) / Double(heatmap.width), height: Double(box[3]) / Double(heatmap.height))
            }
        }
        return heatmap.hottestRegion(threshold: 0.5)
    }

    static func probeAction(_ state: inout AppState, _ action: Action) {
        guard let viewer = state.viewer else { return }
        guard let image = viewer.image, viewer.loadedKey == state.currentSlice?.key else {
            state.message = "The image is still loading"
            return
        }
        switch action {
        case .toggleProbe:
            if viewer.probe != nil {
                state.viewer?.probe = nil
                return
            }
            let region = viewer.viewport.region(width: image.width, height: image.height)
            state.viewer?.probe = Probe(x: region.x + region.width / 2, y: region.y + region.height / 2)
        case .probeLeft, .probeRight, .probeUp, .probeDown:
            guard var probe = viewer.probe else { return }
            let step = ViewerLayout.probeStep(state, image: image)
            let (dx, dy): (Int, Int) = switch action {
            case .probeLeft: (-step.x, 0)
            case .probeRight: (step.x, 0)
            case .probeUp: (0, -step.y)
            default: (0, step.y)
            }
            let x = min(max(probe.x + dx, 0), image.width - 1), y = min(max(probe.y + dy, 0), image.height - 1)
            if x == probe.x && y == probe.y { state.message = "The probe is at the image's edge" }
            probe.x = x
            probe.y = y
            state.viewer?.probe = probe
            keepViewOnProbe(&state)
        case .setMark:
            guard var probe = viewer.probe else { return }
            probe.mark = Probe.Mark(x: probe.x, y: probe.y, sliceIndex: viewer.sliceIndex,
                                    patient: PixelGeometryMath.patientPosition(image.header, x: Double(probe.x), y: Double(probe.y)))
            state.viewer?.probe = probe
        default: break
        }
    }

    /// After the view changed: a probe left outside it moves to the nearest point inside.
    static func keepProbeInView(_ state: inout AppState) {
        guard let viewer = state.viewer, let probe = viewer.probe, let image = viewer.image else { return }
        let region = viewer.viewport.region(width: image.width, height: image.height)
        state.viewer?.probe?.x = min(max(probe.x, region.x), region.x + region.width - 1)
        state.viewer?.probe?.y = min(max(probe.y, region.y), region.y + region.height - 1)
    }

    /// After the probe moved: a zoomed view pans so the probe stays on screen.
    static func keepViewOnProbe(_ state: inout AppState) {
        guard let viewer = state.viewer, let probe = viewer.probe, let image = viewer.image, !viewer.viewport.isWhole else { return }
        let region = viewer.viewport.region(width: image.width, height: image.height)
        var dx = 0.0, dy = 0.0
        if probe.x < region.x { dx = Double(probe.x - region.x) } else if probe.x >= region.x + region.width { dx = Double(probe.x - region.x - region.width + 1) }
        if probe.y < region.y { dy = Double(probe.y - region.y) } else if probe.y >= region.y + region.height { dy = Double(probe.y - region.y - region.height + 1) }
        guard dx != 0 || dy != 0 else { return }
        // pan takes views: one image pixel is zoom / size views.
        state.viewer?.viewport.pan(dx: dx * Double(viewer.viewport.zoom) / Double(image.width),
                                   dy: dy * Double(viewer.viewport.zoom) / Double(image.height))
    }
}

