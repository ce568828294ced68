public import LightboxCore
import Foundation

/// Decoded slices kept in memory, least recently used evicted past a byte budget, so memory stays
/// flat however large the study. Used by the effects only: screens draw the image in the state.
public final class SliceStore: @unchecked Sendable {
    private struct Entry {
        let image: DecodedImage
        let initialWindow: Window
        var lastUse: UInt64
        var bytes: Int { image.values.count * MemoryLayout<Float>.stride }
    }

    private let lock = NSLock()
    private var entries: [SliceKey: Entry] = [:]
    private var clock: UInt64 = 0
    private var totalBytes = 0
    /// The byte budget.
    public let capacityBytes: Int

    /// A store holding at most `capacityBytes` of decoded values (default 128 MiB: 128 slices of
    /// a 512 × 512 CT, ten times what prefetching needs either side, and a resident size under
    /// 300 MB however long the study).
    public init(capacityBytes: Int = 128 << 20) { self.capacityBytes = capacityBytes }

    /// The decoded slice, if held (counts as a use).
    public func image(_ key: SliceKey) -> DecodedImage? { entry(key)?.image }

    /// The slice's own initial window (stored, preset or percentiles), computed once on insert.
    public func initialWindow(_ key: SliceKey) -> Window? { entry(key)?.initialWindow }

    private func entry(_ key: SliceKey) -> Entry? {
        lock.lock()
        defer { lock.unlock() }
        guard var entry = entries[key] else { return nil }
        clock += 1
        entry.lastUse = clock
        entries[key] = entry
        return entry
    }

    /// True when the slice is held (does not count as a use).
    public func contains(_ key: SliceKey) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return entries[key] != nil
    }

    /// Adds a slice, evicting the least recently used past the budget (never the one just added).
    public func insert(_ image: DecodedImage, for key: SliceKey) {
        lock.lock()
        defer { lock.unlock() }
        clock += 1
        if let old = entries[key] { totalBytes -= old.bytes }
        let entry = Entry(image: image, initialWindow: WindowPreset.initialWindow(for: image), lastUse: clock)
        entries[key] = entry
        totalBytes += entry.bytes
        while totalBytes > capacityBytes, entries.count > 1,
              let oldest = entries.filter({ $0.key != key }).min(by: { $0.value.lastUse < $1.value.lastUse }) {
            totalBytes -= oldest.value.bytes
            entries[oldest.key] = nil
        }
    }

    /// Bytes held now.
    public var heldBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return totalBytes
    }

    /// Slices held now.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }
}

/// Messages posted from worker threads, drained by the main loop.
public final class Inbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var messages: [Message] = []

    public init() {}

    /// Adds a message (any thread).
    public func post(_ message: Message) {
        condition.lock()
        messages.append(message)
        condition.signal()
        condition.unlock()
    }

    /// Takes every message posted so far.
    public func drain() -> [Message] {
        condition.lock()
        defer { condition.unlock() }
        let drained = messages
        messages.removeAll()
        return drained
    }

    /// Waits until a message is there, at most `seconds`.
    public func wait(seconds: Double) {
        condition.lock()
        if messages.isEmpty { _ = condition.wait(until: Date(timeIntervalSinceNow: seconds)) }
        condition.unlock()
    }
}
