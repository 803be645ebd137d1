extension PageRequest {
    /// The id an id-ordered list continues after (0 for the first page); 400 for a cursor that
    /// is not an id.
    func afterID() throws(BatonError) -> Int {
        guard let cursor = after else { return 0 }
        guard let value = TextRules.integerCursor(cursor) else { throw .invalidArgument("after is not a cursor", field: "after") }
        return value
    }
}
