package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PredictorBenchmarkTest {

    @Test
    void percentilesAreByNearestRank() {
        double[] ms = new double[100];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = 100 - i; // 100 .. 1, unsorted
        }
        // p50 = the 50th smallest, p99 = the 99th; 100 images in 5050 ms; then 3 x 32 in 6 ms
        assertEquals(
                "RESULT ms=50.000 p50=50.000 p99=99.000 min=1.000 max=100.000 ips=19.80",
                PredictorBenchmark.result(ms, 1));
        assertEquals(
                "RESULT ms=2.000 p50=2.000 p99=3.000 min=1.000 max=3.000 ips=16000.00",
                PredictorBenchmark.result(new double[] {3, 1, 2}, 32));
    }

    @Test
    void predictsBatchesThroughTheTranslator() throws Exception {
        PrintStream out = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            PredictorBenchmark.main(
                    new String[] {
                        "--model",
                        "resnet18",
                        "--size",
                        "32",
                        "--batch",
                        "3",
                        "--iterations",
                        "2",
                        "--warmup",
                        "0",
                        "--repeats",
                        "2"
                    });
        } finally {
            System.setOut(out);
        }
        String line = buffer.toString(StandardCharsets.UTF_8).trim();
        assertTrue(line.startsWith("RESULT "), line);
        Map<String, Double> r = new HashMap<>();
        for (String kv : line.substring(7).split(" ")) {
            String[] p = kv.split("=");
            r.put(p[0], Double.parseDouble(p[1]));
        }
        // two calls of 3 images: p50 is the faster, p99 the slower, ips from their sum
        assertEquals(r.get("min"), r.get("p50"));
        assertEquals(r.get("max"), r.get("p99"));
        assertEquals(6 * 1000 / (r.get("min") + r.get("max")), r.get("ips"), 0.01 * r.get("ips"));
        assertTrue(r.get("rss") > 0, line);
    }

    @Test
    void aSegmenterIsRefusedByNameAndTheUsageIsItsOwn() {
        assertEquals(
                "--model must be one of resnet18, resnet34, resnet50, vit-tiny, vit-small, got"
                        + " deeplabv3plus",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> PredictorBenchmark.parse("--model", "deeplabv3plus"))
                        .getMessage());
        // options it would ignore are not taken
        for (String ignored : new String[] {"--device", "--profile"}) {
            assertEquals(
                    "unknown option " + ignored + "\n" + PredictorBenchmark.USAGE,
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> PredictorBenchmark.parse(ignored, "cpu"))
                            .getMessage());
        }
    }
}
