package dfbmodels.io;

import static dfbmodels.io.Backbones.sliced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dfbmodels.FeedbackBlock;
import dfbmodels.TorchvisionStateDicts;
import dfbmodels.TorchvisionStateDicts.Manifest;
import dfbmodels.models.ResNet18;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * torchvision's ImageNet head ({@code fc}, 1000 classes) in a feedback ResNet: whole when the model
 * has 1000 classes, its rows into the first of more, its first rows into fewer ({@link
 * BackboneLoadTest}).
 */
class BackboneHeadTest {

    @Test
    void aHeadOfTheSameOrMoreClasses() throws Exception {
        Manifest manifest = TorchvisionStateDicts.manifest(Backbones.RESNET18);
        float[] w = manifest.values("fc.weight", new Shape(1000, 512));
        float[] b = manifest.values("fc.bias", new Shape(1000));
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock same =
                    Backbones.init(m, ResNet18.builder().setNumClasses(1000).build(), 64);
            LoadReport report = TorchWeights.loadBackbone(same, Backbones.file(Backbones.RESNET18));
            assertTrue(report.loaded().containsAll(List.of("fc.weight", "fc.bias")));
            assertArrayEquals(w, Backbones.snapshot(same).get("fc.weight"));
            assertArrayEquals(b, Backbones.snapshot(same).get("fc.bias"));

            FeedbackBlock more =
                    Backbones.init(m, ResNet18.builder().setNumClasses(1500).build(), 64);
            Map<String, float[]> before = Backbones.snapshot(more);
            report = TorchWeights.loadBackbone(more, Backbones.file(Backbones.RESNET18));
            Map<String, float[]> after = Backbones.snapshot(more);
            assertEquals(List.of("fc.weight", "fc.bias"), tail(report.sliced()));
            Shape fc = new Shape(1500, 512);
            assertArrayEquals(
                    sliced(before.get("fc.weight"), fc, w, new Shape(1000, 512), true),
                    after.get("fc.weight"));
            assertArrayEquals(
                    sliced(before.get("fc.bias"), new Shape(1500), b, new Shape(1000), true),
                    after.get("fc.bias"));
            assertEquals(
                    "into [:1000, :] of (1500, 512); [1000:] as initialised",
                    BackboneLoadTest.entry(report, "fc.weight").detail());
        }
    }

    private static List<String> tail(List<String> keys) {
        return keys.subList(keys.size() - 2, keys.size());
    }
}
