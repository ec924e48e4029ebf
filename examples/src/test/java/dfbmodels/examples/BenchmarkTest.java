package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class BenchmarkTest {

    /** Runs the benchmark's main (which starts one JVM per measurement) and returns its output. */
    private static String run(String... args) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            Benchmark.main(args);
        } finally {
            System.setOut(original);
        }
        String out = buffer.toString(StandardCharsets.UTF_8);
        original.print(out);
        return out;
    }

    @Test
    void measuresTheUNetWithEveryOption() throws Exception {
        String out =
                run(
                        "--model", "unet",
                        // later options win: 32x32, the smallest the U-Net takes
                        "--size", "64",
                        "--height", "32",
                        "--width", "32",
                        "--batch", "2",
                        "--device", "cpu",
                        "--iterations", "1,2",
                        "--warmup", "0",
                        "--repeats", "1",
                        "--fb-filters", "2",
                        "--classes", "2",
                        "--profile", "true",
                        "--uniform-shortcut", "true");
        List<String> lines = Arrays.asList(out.split("\n"));
        assertTrue(lines.get(0).startsWith("unet, input 32x32, batch 2, device cpu"), out);
        List<String> rows =
                lines.stream()
                        .filter(l -> l.matches("\\| (backbone|\\d+) \\|.*"))
                        .collect(Collectors.toList());
        assertEquals(3, rows.size(), out);
        assertTrue(rows.get(0).startsWith("| backbone |"), out);
        assertTrue(rows.get(1).startsWith("| 1 |"), out);
        assertTrue(rows.get(2).startsWith("| 2 |"), out);
        for (String row : rows) {
            String[] cells = row.split("\\|");
            // T, then ms, img/s, RSS MB, ratio for training and for inference
            assertEquals(10, cells.length, row);
            double trainMs = Double.parseDouble(cells[2].trim());
            double trainIps = Double.parseDouble(cells[3].trim());
            double inferMs = Double.parseDouble(cells[6].trim());
            double inferIps = Double.parseDouble(cells[7].trim());
            assertEquals(2000 / trainMs, trainIps, 0.06 + 1e-3 * trainIps, row);
            assertEquals(2000 / inferMs, inferIps, 0.06 + 1e-3 * inferIps, row);
            assertTrue(Long.parseLong(cells[4].trim()) > 100, "peak RSS MB: " + row);
            assertTrue(Long.parseLong(cells[8].trim()) > 100, "peak RSS MB: " + row);
        }
        // the U-Net's state is 16 + 2 channels; its Q is never re-orthogonalised
        assertTrue(out.contains("(Q is 18x18; no re-orthogonalisation)"), out);
        assertTrue(out.contains("profile, training at T=2: wall "), out);
    }

    @Test
    void unknownModelsAreNamed() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Benchmark.Config.parse(new String[] {"--model", "vit"}));
        assertEquals(
                "--model must be one of resnet18, resnet34, resnet50, deeplabv3plus, unet, got vit",
                e.getMessage());
    }
}
