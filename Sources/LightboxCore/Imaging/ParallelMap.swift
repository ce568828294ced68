import Foundation

/// `map` over 0..<count on up to `threads` threads, results in order; the first error is thrown.
public enum ParallelMap {
    public static func map<T: Sendable>(_ count: Int, threads: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        guard count > 0 else { return [] }
        let slots = Slots<T>(count: count)
        let workers = max(1, min(threads, count))
        let failure = Slots<any Error>(count: 1)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var index = worker
            while index < count {
                do { slots.set(index, try body(index)) } catch { failure.set(0, error) }
                index += workers
            }
        }
        if let error = failure.values().first { throw error }
        return slots.values()
    }

    private final class Slots<T>: @unchecked Sendable {
        private var items: [T?]
        private let lock = NSLock()
        init(count: Int) { items = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: T) { lock.lock(); items[index] = value; lock.unlock() }
        func values() -> [T] { lock.lock(); defer { lock.unlock() }; return items.compactMap { $0 } }
    }
}
