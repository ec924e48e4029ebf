package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The examples' exit statuses and where their messages go. */
class CliTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private Options ran;

    private int run(Cli.Program<Options> program, String... args) throws Exception {
        return Cli.run(
                args,
                Options::parse,
                program,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void helpGoesToStandardOutputAndSucceeds() throws Exception {
        for (String help : new String[] {"--help", "-h"}) {
            out.reset();
            assertEquals(0, run(o -> ran = o, "--epochs", "3", help));
            assertEquals(Options.USAGE + System.lineSeparator(), out());
            assertEquals("", err());
            assertEquals(null, ran, "the program does not run");
        }
        // each program's parser asks for help the same way
        assertEquals(
                RobustnessOptions.USAGE,
                assertThrows(Cli.HelpRequested.class, () -> RobustnessOptions.parse("-h"))
                        .getMessage());
        assertEquals(
                PolygonsOptions.USAGE,
                assertThrows(Cli.HelpRequested.class, () -> PolygonsOptions.parse("--help"))
                        .getMessage());
        assertEquals(
                BenchmarkOptions.USAGE,
                assertThrows(Cli.HelpRequested.class, () -> BenchmarkOptions.parse("--help"))
                        .getMessage());
        assertEquals(
                PredictorBenchmark.USAGE,
                assertThrows(Cli.HelpRequested.class, () -> PredictorBenchmark.parse("--help"))
                        .getMessage());
        // anywhere: after a bad value too
        out.reset();
        assertEquals(0, run(o -> ran = o, "--epochs", "zero", "--help"));
        assertEquals(Options.USAGE + System.lineSeparator(), out());
    }

    @Test
    void badOptionsExitWithTwoAndNameTheOption() throws Exception {
        assertEquals(2, run(o -> ran = o, "--epochs", "zero"));
        assertEquals(
                "--epochs must be a positive integer, got zero" + System.lineSeparator(), err());
        assertEquals("", out());
        assertEquals(null, ran);
    }

    @Test
    void anOptionGivenLastWithoutAValueIsNamedForWhatItIs() {
        String[][] known = {{"--epochs", Options.USAGE}, {"--sigmas", RobustnessOptions.USAGE}};
        for (String[] c : known) {
            assertEquals(
                    "option " + c[0] + " needs a value\n" + c[1],
                    Cli.missingValue(c[0], c[1]).getMessage());
        }
        assertEquals(
                "unknown option --bogus\n" + Options.USAGE,
                assertThrows(IllegalArgumentException.class, () -> Options.parse("--bogus"))
                        .getMessage());
        assertEquals(
                "unknown option --bogus\n" + RobustnessOptions.USAGE,
                assertThrows(
                                IllegalArgumentException.class,
                                () -> RobustnessOptions.parse("--bogus"))
                        .getMessage());
        assertEquals(
                "unknown option --bogus\n" + PolygonsOptions.USAGE,
                assertThrows(IllegalArgumentException.class, () -> PolygonsOptions.parse("--bogus"))
                        .getMessage());
        assertEquals(
                "option --steps needs a value\n" + PolygonsOptions.USAGE,
                assertThrows(IllegalArgumentException.class, () -> PolygonsOptions.parse("--steps"))
                        .getMessage());
        // a forgotten value is not taken from the next option
        assertEquals(
                "option --data-dir needs a value\n" + Options.USAGE,
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Options.parse("--data-dir", "--epochs", "1"))
                        .getMessage());
        // a prefix of an option is not that option
        assertEquals(
                "unknown option --epoch\n" + Options.USAGE,
                assertThrows(IllegalArgumentException.class, () -> Options.parse("--epoch"))
                        .getMessage());
    }

    @Test
    void aRunThatFailsOnItsDataExitsWithOneAndSaysWhy() throws Exception {
        assertEquals(
                1,
                run(
                        o -> {
                            throw new IOException("no IDX files in " + o.dataDir);
                        },
                        "--data-dir",
                        "nowhere"));
        assertEquals("no IDX files in nowhere" + System.lineSeparator(), err());
        // other failures are not hidden behind a status
        IllegalStateException bug = new IllegalStateException("a bug");
        assertSame(
                bug,
                assertThrows(
                        IllegalStateException.class,
                        () ->
                                run(
                                        o -> {
                                            throw bug;
                                        })));
    }

    @Test
    void anOutputThatCannotBeCreatedIsNamedWithWhy(@TempDir Path tmp) throws Exception {
        Path file = Files.createFile(tmp.resolve("afile"));
        Cli.Program<Options> train = TrainMnist::run;
        assertEquals(
                1,
                run(
                        train,
                        "--dataset",
                        "fashion-mnist",
                        "--data-dir",
                        RealData.fashion().toString(),
                        "--limit",
                        "64",
                        "--output",
                        file.toString()));
        assertEquals(
                "cannot write or read " + file + ": a file is in the way" + System.lineSeparator(),
                err());
        assertEquals(
                "cannot write or read /x/y: permission denied",
                Cli.describe(new AccessDeniedException("/x/y")));
        assertEquals(
                "cannot write or read /x/y: no such file or folder",
                Cli.describe(new NoSuchFileException("/x/y")));
        assertEquals("other", Cli.describe(new IOException("other")));
    }

    @Test
    void aRunThatFinishesSucceeds() throws Exception {
        assertEquals(0, run(o -> ran = o, "--epochs", "3"));
        assertEquals(3, ran.epochs);
        assertEquals("", err());
    }

    @Test
    void theProgramsReturnNormallyOnHelp() throws Exception {
        // status 0 does not call System.exit, which would end this JVM (and mvn exec:java)
        PrintStream stdout = System.out;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            TrainMnist.main(new String[] {"--help"});
            Robustness.main(new String[] {"--help"});
            Polygons.main(new String[] {"--help"});
            Benchmark.main(new String[] {"--help"});
            PredictorBenchmark.main(new String[] {"-h"});
        } finally {
            System.setOut(stdout);
        }
        assertEquals(
                String.join(
                        System.lineSeparator(),
                        Options.USAGE,
                        RobustnessOptions.USAGE,
                        PolygonsOptions.USAGE,
                        BenchmarkOptions.USAGE,
                        PredictorBenchmark.USAGE,
                        ""),
                out());
    }
}
