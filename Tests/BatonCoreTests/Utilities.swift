import BatonTestSupport
import Testing

extension Trait where Self == ConditionTrait {
    /// Runs the test when a test cluster is configured (always under CI).
    static var requiresDatabase: Self {
        .enabled(if: TestDatabase.isEnabled, "needs BATON_TEST_DATABASE_URL (run scripts/test.sh)")
    }
}
