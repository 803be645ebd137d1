import BatonCore
import Testing

@Suite struct PageRequestTests {
    @Test func defaultsToFiftyAndRejectsOutOfRangeLimits() throws {
        #expect(try PageRequest(limit: nil, after: nil).limit == 50)
        #expect(try PageRequest(limit: 200, after: "x").after == "x")
        for limit in [0, -1, 201] {
            let error = #expect(throws: BatonError.self) { try PageRequest(limit: limit, after: nil) }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.details["field"] == "limit")
        }
    }

    @Test func aFullExtraRowMeansThereIsANextPage() throws {
        let request = try PageRequest(limit: 2, after: nil)
        let more = request.page(["a", "b", "c"]) { $0 }
        #expect(more.items == ["a", "b"])
        #expect(more.nextCursor == "b")
        let last = request.page(["a", "b"]) { $0 }
        #expect(last.nextCursor == nil)
    }
}
