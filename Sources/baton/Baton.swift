import ArgumentParser

@main
struct Baton: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baton",
        abstract: "Baton coordination server.",
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self
    )
}
