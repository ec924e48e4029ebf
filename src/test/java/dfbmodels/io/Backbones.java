package dfbmodels.io;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dfbmodels.FeedbackBlock;
import dfbmodels.TorchvisionStateDicts;
import dfbmodels.models.ResNet18;
import dfbmodels.models.ResNet50;
import dfbmodels.models.VisionTransformer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The backbone tests' models and files: torchvision state_dicts rebuilt once per JVM (the ResNets'
 * are 47 and 102 MB) into a temporary folder removed at exit, feedback models built to take them,
 * and parameter snapshots.
 */
final class Backbones {

    static final String RESNET18 = "resnet18";
    static final String RESNET50 = "resnet50";
    static final String VIT = "vit_32_p4_l2_d64";

    private static final Map<String, Path> FILES = new HashMap<>();
    private static Path dir;

    private Backbones() {}

    /** The torchvision state_dict of a fixture, rebuilt and checked by its SHA-256. */
    static synchronized Path file(String model) throws IOException {
        Path file = FILES.get(model);
        if (file == null) {
            if (dir == null) {
                dir = Files.createTempDirectory("dfbmodels-backbones");
                Runtime.getRuntime().addShutdownHook(new Thread(Backbones::deleteDir));
            }
            file = TorchvisionStateDicts.safetensors(model, dir);
            FILES.put(model, file);
        }
        return file;
    }

    /** A folder for a test's own files, removed at exit. */
    static synchronized Path dir() throws IOException {
        file(VIT);
        return dir;
    }

    private static synchronized void deleteDir() {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Feedback ResNet18, 10 classes, fb 8, initialised for (1, 3, 64, 64). */
    static FeedbackBlock resnet18(NDManager m) {
        return init(m, ResNet18.builder().setNumClasses(10).build(), 64);
    }

    /** Feedback ResNet50, 10 classes, fb 8 (32 feedback channels), initialised for 64×64. */
    static FeedbackBlock resnet50(NDManager m) {
        return init(m, ResNet50.builder().setNumClasses(10).build(), 64);
    }

    /** The feedback ViT of the fixture's sizes (32×32, patch 4, 2 layers, D 64, 4 heads), fb 8. */
    static VisionTransformer.Builder vitBuilder() {
        return VisionTransformer.builder()
                .setNumClasses(10)
                .optImageSize(32)
                .optPatchSize(4)
                .optNumLayers(2)
                .optHiddenDim(64)
                .optNumHeads(4)
                .optMlpDim(128);
    }

    static FeedbackBlock vit(NDManager m) {
        return init(m, vitBuilder().build(), 32);
    }

    static FeedbackBlock init(NDManager m, FeedbackBlock model, int size) {
        return init(m, model, size, DataType.FLOAT32);
    }

    static FeedbackBlock init(NDManager m, FeedbackBlock model, int size, DataType type) {
        model.initialize(m, type, new Shape(1, 3, size, size));
        return model;
    }

    /** Every parameter's values, by PyTorch key. */
    static Map<String, float[]> snapshot(Block model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> p : TorchNames.of(model).entrySet()) {
            out.put(p.getKey(), p.getValue().getArray().toFloatArray());
        }
        return out;
    }

    /**
     * What a parameter {@code before} (of shape {@code model}) should hold after a slice copy of
     * {@code src} (of shape {@code srcShape}) into its leading corner: {@code src} there, zero from
     * the extra inputs (axis 1) into the copied outputs (rows {@code < srcShape[0]}) when {@code
     * zero}, {@code before} elsewhere. Computed element by element, independently of the loader.
     */
    static float[] sliced(float[] before, Shape model, float[] src, Shape srcShape, boolean zero) {
        float[] out = before.clone();
        int d = model.dimension();
        long[] idx = new long[d];
        for (int i = 0; i < out.length; i++) {
            long rest = i;
            for (int k = d - 1; k >= 0; k--) {
                idx[k] = rest % model.get(k);
                rest /= model.get(k);
            }
            boolean inside = true;
            long j = 0;
            for (int k = 0; k < d; k++) {
                inside &= idx[k] < srcShape.get(k);
                j = j * srcShape.get(k) + Math.min(idx[k], srcShape.get(k) - 1);
            }
            if (inside) {
                out[i] = src[(int) j];
            } else if (zero && d >= 2 && idx[0] < srcShape.get(0) && idx[1] >= srcShape.get(1)) {
                out[i] = 0f;
            }
        }
        return out;
    }
}
