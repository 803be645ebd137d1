import BatonCore
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// How much one token (or one address, for requests without a token) may ask of this server.
/// Each server keeps its own counts: behind a balancer that spreads a region's requests over
/// `n` servers, a caller gets about `n` times `rate` from the region, so set `rate` to the
/// region's intended limit divided by `n`.
public struct FairUseSettings: Sendable, Equatable {
    /// Requests per second refilled into each caller's bucket; 0 turns the limits off.
    public var rate: Double
    /// The most requests a caller may make at once after being quiet (the bucket's size).
    public var burst: Double
    /// Requests that may wait (long-poll claims, `GET /v1/events` with `wait_seconds`, the
    /// event stream) one caller may hold open at once; 0 for no limit.
    public var maximumHeld: Int

    public init(rate: Double, burst: Double, maximumHeld: Int) {
        self.rate = rate
        self.burst = max(burst, 1)
        self.maximumHeld = maximumHeld
    }

    /// No limits: what tests and benchmarks run with unless they ask for some.
    public static let off = FairUseSettings(rate: 0, burst: 1, maximumHeld: 0)
}

/// Per-caller token buckets and counts of held requests, in memory.
final class FairUseLimits: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var held: [String: Int] = [:]
    }

    let settings: FairUseSettings
    private let state = Mutex(State())
    /// Buckets kept before full (idle) ones are dropped, so that many callers cannot grow memory.
    private static let sweepAbove = 10_000

    init(settings: FairUseSettings) { self.settings = settings }

    /// Takes one request from `key`'s bucket; nil when it may go ahead, else how long until
    /// the bucket holds one again. `charge: false` only looks.
    func take(_ key: String, charge: Bool = true, now: ContinuousClock.Instant = .now) -> Duration? {
        guard settings.rate > 0 else { return nil }
        return state.withLock { state in
            // A caller without a bucket has a full one: a look needs no entry (valid tokens'
            // addresses are only looked at, and would otherwise each keep one).
            guard charge || state.buckets[key] != nil else { return nil }
            var bucket = state.buckets[key] ?? Bucket(tokens: settings.burst, updated: now)
            let elapsed = (now - bucket.updated).inSeconds
            bucket.tokens = min(settings.burst, bucket.tokens + max(elapsed, 0) * settings.rate)
            bucket.updated = now
            defer {
                if state.buckets.count > Self.sweepAbove { Self.sweep(&state, settings: settings, now: now) }
            }
            guard bucket.tokens >= 1 else {
                state.buckets[key] = bucket
                return .milliseconds(Int(((1 - bucket.tokens) / settings.rate * 1000).rounded(.up)))
            }
            if charge { bucket.tokens -= 1 }
            state.buckets[key] = bucket
            return nil
        }
    }

    /// Counts one more held request of `key`; false when it already holds the most allowed.
    func hold(_ key: String) -> Bool {
        guard settings.rate > 0, settings.maximumHeld > 0 else { return true }
        return state.withLock { state in
            let held = state.held[key, default: 0]
            guard held < settings.maximumHeld else { return false }
            state.held[key] = held + 1
            return true
        }
    }

    func release(_ key: String) {
        guard settings.rate > 0, settings.maximumHeld > 0 else { return }
        state.withLock { state in
            let held = state.held[key, default: 1] - 1
            state.held[key] = held > 0 ? held : nil
        }
    }

    private static func sweep(_ state: inout State, settings: FairUseSettings, now: ContinuousClock.Instant) {
        let full = settings.burst / settings.rate
        state.buckets = state.buckets.filter { _, bucket in now - bucket.updated < .milliseconds(Int(full * 1000)) }
    }
}

/// Refuses with 429 and `Retry-After` what a caller asks beyond its share; see
/// ``FairUseSettings``. Requests without a token are counted by address before
/// authentication, and so are failed authentications of requests with one (a flood of made-up
/// tokens costs the address its share); a valid token is counted by the token after it.
struct FairUseMiddleware: RouterMiddleware {
    typealias Context = BatonRequestContext
    let limits: FairUseLimits
    /// Before authentication (addresses) or after it (tokens).
    let stage: Stage

    enum Stage {
        case address
        case token
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard limits.settings.rate > 0 else { return try await next(request, context) }
        switch stage {
        case .address:
            let key = "address " + (context.remoteAddress ?? "unknown")
            guard request.headers[.authorization] != nil else {
                try refuse(limits.take(key), reason: "rate")
                return try await next(request, context)
            }
            // An address whose made-up tokens emptied its bucket waits like any other.
            try refuse(limits.take(key, charge: false), reason: "rate")
            do {
                return try await next(request, context)
            } catch let error as APIError where error.status == .unauthorized {
                _ = limits.take(key)
                throw error
            }
        case .token:
            guard let principal = RequestPrincipal.current else { return try await next(request, context) }
            let key = "token \(principal.tokenID)"
            try refuse(limits.take(key), reason: "rate")
            guard Self.mayWait(request) else { return try await next(request, context) }
            guard limits.hold(key) else {
                Counter(label: "baton_http_refused_total", dimensions: [("reason", "held")]).increment()
                var error = APIError(
                    status: .tooManyRequests,
                    code: "rate_limited",
                    message: "this token already holds \(limits.settings.maximumHeld) waiting requests; finish one first"
                )
                error.headers[.retryAfter] = "1"
                throw error
            }
            defer { limits.release(key) }
            return try await next(request, context)
        }
    }

    private func refuse(_ wait: Duration?, reason: String) throws {
        guard let wait else { return }
        Counter(label: "baton_http_refused_total", dimensions: [("reason", reason)]).increment()
        let seconds = max(1, Int(wait.inSeconds.rounded(.up)))
        var error = APIError(
            status: .tooManyRequests,
            code: "rate_limited",
            message:
                "too many requests: \(limits.settings.rate.formatted()) a second with bursts of \(Int(limits.settings.burst)); retry after \(seconds) s"
        )
        error.headers[.retryAfter] = String(seconds)
        throw error
    }

    /// Requests that may wait for work or events rather than answer at once.
    static func mayWait(_ request: Request) -> Bool {
        let path = request.uri.path
        if path == "/v1/events/stream" { return true }
        if request.method == .post, path.hasSuffix("/claim") { return true }
        if request.method == .get, path == "/v1/events", let wait = request.uri.queryParameters["wait_seconds"], wait != "0" { return true }
        return false
    }
}

extension Double {
    /// `50` or `2.5`, without a trailing `.0`.
    fileprivate func formatted() -> String {
        self == rounded() ? String(Int(self)) : String(self)
    }
}
