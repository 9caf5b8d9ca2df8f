import java.lang.instrument.Instrumentation;

/**
 * LocalStack starts DynamoDB Local with its own Java agent (ddb-local-loader), which patches the
 * engine to allow more than 20 global secondary indexes and is downloaded at run time. Offline,
 * this agent of the same name stands in for it and changes nothing: DynamoDB Local keeps AWS's
 * own limit of 20, which our tables are far below.
 */
public final class NoopAgent {
    private NoopAgent() {}

    public static void premain(String arguments, Instrumentation instrumentation) {}
}
