/// One page of a list, with the cursor for the next page when there is one.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Page size and position of a list request.
public struct PageRequest: Sendable, Equatable {
    public static let defaultLimit = 50
    public static let maximumLimit = 200

    public var limit: Int
    public var after: String?

    /// Validates the limit; an out-of-range one is a ``BatonError/invalidArgument``. An empty
    /// `after` (`?after=`, what a client's URL template makes of "no cursor") is the start.
    public init(limit: Int?, after: String?) throws(BatonError) {
        let limit = limit ?? Self.defaultLimit
        guard (1...Self.maximumLimit).contains(limit) else {
            throw BatonError.invalidArgument("limit must be between 1 and \(Self.maximumLimit)", field: "limit")
        }
        self.limit = limit
        self.after = after?.isEmpty == true ? nil : after
    }

    /// Cuts a result fetched with `limit + 1` rows into a page and its next cursor.
    public func page<Item>(_ rows: [Item], cursor: (Item) -> String) -> Page<Item> {
        guard rows.count > limit else { return Page(items: rows, nextCursor: nil) }
        let items = Array(rows.prefix(limit))
        return Page(items: items, nextCursor: items.last.map(cursor))
    }
}
