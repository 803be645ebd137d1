import Dispatch
public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which outbound URLs Baton posts to: http or https, no credentials in the URL, and a host
/// that resolves, to public addresses only unless private ones are allowed. Checked when a
/// subscription is made or changed, and again before every delivery (DNS may have changed).
public struct WebhookURLPolicy: Sendable {
    public var allowPrivateAddresses: Bool

    public init(allowPrivateAddresses: Bool) {
        self.allowPrivateAddresses = allowPrivateAddresses
    }

    /// Refuses `text` with a ``BatonError/Kind/ruleViolation`` naming `url`, or returns it parsed.
    @discardableResult
    public func check(_ text: String) async throws(BatonError) -> URL {
        guard let components = URLComponents(string: text), let url = components.url,
            let scheme = components.scheme?.lowercased()
        else {
            throw Self.refusal("url is not a URL")
        }
        guard scheme == "http" || scheme == "https" else { throw Self.refusal("url must use http or https") }
        guard components.user == nil, components.password == nil, !(components.percentEncodedHost ?? "").contains("@") else {
            throw Self.refusal("url must not hold credentials; sign with the secret instead")
        }
        var host = components.host ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw Self.refusal("url has no host") }
        if let port = components.port, !(1...65535).contains(port) { throw Self.refusal("url has no valid port") }
        let addresses = await Self.resolve(host)
        guard !addresses.isEmpty else { throw Self.refusal("url's host '\(host.prefix(200))' does not resolve") }
        if !allowPrivateAddresses, let address = addresses.first(where: { !$0.isPublic }) {
            throw Self.refusal("url's host resolves to \(address), a private, loopback or link-local address")
        }
        return url
    }

    private static func refusal(_ message: String) -> BatonError {
        BatonError(.ruleViolation, message, details: ["field": "url"])
    }

    /// An address a host resolved to.
    enum Address: Sendable, CustomStringConvertible, Equatable {
        case v4([UInt8])
        case v6([UInt8])

        var description: String {
            switch self {
            case .v4(let bytes): return bytes.map(String.init).joined(separator: ".")
            case .v6(let bytes):
                return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                    .joined(separator: ":")
            }
        }

        /// Not loopback, private (RFC 1918, unique local), link-local, shared (CGNAT),
        /// unspecified, multicast or reserved.
        var isPublic: Bool {
            switch self {
            case .v4(let b):
                switch (b[0], b[1]) {
                case (0, _), (10, _), (127, _), (169, 254), (192, 168): return false
                case (172, 16...31), (100, 64...127): return false
                case (192, 0) where b[2] == 0: return false
                case (224...255, _): return false
                default: return true
                }
            case .v6(let b):
                if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xFF, b[11] == 0xFF { return Address.v4(Array(b[12..<16])).isPublic }
                if b[0..<15].allSatisfy({ $0 == 0 }) { return false }  // :: and ::1
                if b[0] == 0xFE, b[1] & 0xC0 == 0x80 { return false }  // fe80::/10
                if b[0] & 0xFE == 0xFC { return false }  // fc00::/7
                if b[0] == 0xFF { return false }  // multicast
                return true
            }
        }
    }

    /// The addresses `host` resolves to (none when it does not). getaddrinfo blocks, so it runs
    /// on a dispatch queue rather than the cooperative pool.
    static func resolve(_ host: String) async -> [Address] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_family = AF_UNSPEC
                #if canImport(Glibc)
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                #else
                hints.ai_socktype = SOCK_STREAM
                #endif
                var result: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else {
                    continuation.resume(returning: [])
                    return
                }
                defer { freeaddrinfo(first) }
                var addresses: [Address] = []
                var next: UnsafeMutablePointer<addrinfo>? = first
                while let info = next {
                    if info.pointee.ai_family == AF_INET, let raw = info.pointee.ai_addr {
                        raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                            var address = pointer.pointee.sin_addr
                            addresses.append(.v4(withUnsafeBytes(of: &address) { Array($0) }))
                        }
                    } else if info.pointee.ai_family == AF_INET6, let raw = info.pointee.ai_addr {
                        raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                            var address = pointer.pointee.sin6_addr
                            addresses.append(.v6(withUnsafeBytes(of: &address) { Array($0) }))
                        }
                    }
                    next = info.pointee.ai_next
                }
                continuation.resume(returning: addresses)
            }
        }
    }
}
