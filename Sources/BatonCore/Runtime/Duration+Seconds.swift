extension Duration {
    /// The duration in seconds, fractions included, for arithmetic and display.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
