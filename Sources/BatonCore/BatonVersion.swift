/// The version of this Baton build, reported by `/healthz`, `batonctl status` and logs.
public enum BatonVersion {
    public static let current = "0.1.0"
}
