/// Every command family, registered into the table at start-up. A command without a
/// registered handler stays absent (unknown command, not in COMMAND output).
public enum CommandFamilies {
    public static func registerAll(into registry: CommandRegistry) {
        ConnectionCommands.register(into: registry)
        StringCommands.register(into: registry)
        CommandCommands.register(into: registry)
        ServerCommands.register(into: registry)
        InfoCommand.register(into: registry)
        DebugCommands.register(into: registry)
        KeyCommands.register(into: registry)
        BitmapCommands.register(into: registry)
        ListCommands.register(into: registry)
        BlockingCommands.register(into: registry)
        SetCommands.register(into: registry)
        HashCommands.register(into: registry)
        SortedSetCommands.register(into: registry)
        HyperLogLogCommands.register(into: registry)
        GeoCommands.register(into: registry)
        SortCommand.register(into: registry)
        MemoryCommands.register(into: registry)
        TransactionCommands.register(into: registry)
        TrackingCommands.register(into: registry)
        ScriptingCommands.register(into: registry)
        FunctionCommands.register(into: registry)
        PubSubCommands.register(into: registry)
    }
}
