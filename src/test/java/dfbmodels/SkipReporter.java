package dfbmodels;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Prints why a test was skipped on the console. Surefire reports a skipped test's reason only in
 * {@code target/surefire-reports/*.xml} and counts it on the console ({@code Skipped: 3}); this
 * extension, registered for every test by {@code META-INF/services} and {@code
 * junit.jupiter.extensions.autodetection.enabled} in {@code junit-platform.properties}, prints one
 * {@code SKIPPED} line per test, with the reason in full the first time it occurs.
 */
public final class SkipReporter implements TestWatcher {

    private static final Set<String> REASONS_SHOWN = ConcurrentHashMap.newKeySet();

    /** Creates the extension (found by the service loader). */
    public SkipReporter() {}

    /** {@inheritDoc} */
    @Override
    public void testAborted(ExtensionContext context, Throwable cause) {
        print(context, String.valueOf(cause.getMessage()));
    }

    /** {@inheritDoc} */
    @Override
    public void testDisabled(ExtensionContext context, Optional<String> reason) {
        print(context, reason.orElse("disabled"));
    }

    private static void print(ExtensionContext context, String reason) {
        String method = context.getRequiredTestMethod().getName();
        String display = context.getDisplayName();
        String test =
                context.getRequiredTestClass().getSimpleName()
                        + "."
                        + method
                        + (display.startsWith(method + "(") ? "" : " " + display);
        String why = REASONS_SHOWN.add(reason) ? reason : "same reason as above";
        System.out.println("SKIPPED " + test + ": " + why);
    }
}
