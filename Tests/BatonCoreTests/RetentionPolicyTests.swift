import BatonCore
import Testing

@Suite struct RetentionPolicyTests {
    @Test func agesReadAsANumberAndAUnitOrForever() throws {
        #expect(try RetentionPolicy.parseAge("36h") == .seconds(36 * 3600))
        #expect(try RetentionPolicy.parseAge("90d") == .seconds(90 * 86400))
        #expect(try RetentionPolicy.parseAge("2w") == .seconds(14 * 86400))
        #expect(try RetentionPolicy.parseAge(" 90m ") == .seconds(90 * 60))
        #expect(try RetentionPolicy.parseAge("Forever") == nil)
        for text in ["", "90", "d", "0d", "-1d", "1.5d", "10x", "90 days", "99999999999d"] {
            #expect(throws: RetentionPolicy.Invalid.self, "'\(text)'") { try RetentionPolicy.parseAge(text) }
        }
    }

    @Test func anAgeUnderAnHourIsRefused() throws {
        #expect(throws: RetentionPolicy.Invalid.self) { try RetentionPolicy.parseAge("59m") }
        #expect(throws: RetentionPolicy.Invalid.self) { try RetentionPolicy.parseAge("3599s") }
        #expect(try RetentionPolicy.parseAge("3600s") == .seconds(3600))
    }

    @Test func agesPrintInTheLargestWholeUnit() {
        #expect(RetentionPolicy.format(.seconds(90 * 86400)) == "90d")
        #expect(RetentionPolicy.format(.seconds(14 * 86400)) == "2w")
        #expect(RetentionPolicy.format(.seconds(36 * 3600)) == "36h")
        #expect(RetentionPolicy.format(.seconds(3601)) == "3601s")
        #expect(RetentionPolicy.format(nil) == "forever")
    }

    @Test func theDefaultsKeepTasksNinetyDaysDeliveriesThirtyAndEventsForever() {
        #expect(RetentionPolicy.defaults.age(of: .tasks) == .seconds(90 * 86400))
        #expect(RetentionPolicy.defaults.age(of: .webhookDeliveries) == .seconds(30 * 86400))
        #expect(RetentionPolicy.defaults.age(of: .events) == nil)
    }
}
