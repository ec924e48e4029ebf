package dfbmodels.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.Transform;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CorruptionTest {

    /** Two hand-made 1×2×3 images, values at and near the clipping bounds. */
    private static final float[] A = {0f, 0.05f, 0.5f, 0.95f, 1f, 0.25f};

    private static final float[] B = {1f, 0.75f, 0.5f, 0.125f, 0f, 0.6f};

    /** The documented per-image key, written out independently of {@code Images}. */
    private static long key(long seed, float[] image) {
        long h = splitMix(seed);
        for (float v : image) {
            h ^= Float.floatToIntBits(v) & 0xffffffffL;
            h *= 0x100000001B3L;
        }
        return splitMix(h);
    }

    private static long splitMix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static float[] noisy(float[] image, float sigma, long seed) {
        Random r = new Random(key(seed, image));
        float[] out = new float[image.length];
        for (int i = 0; i < image.length; i++) {
            float v = image[i] + (float) (sigma * r.nextGaussian());
            out[i] = Math.min(1f, Math.max(0f, v));
        }
        return out;
    }

    private static float[] saltAndPepper(float[] image, float fraction, long seed) {
        Random r = new Random(key(seed, image));
        float[] out = image.clone();
        for (int i = 0; i < image.length; i++) {
            double u = r.nextDouble();
            if (u < fraction / 2.0) {
                out[i] = 0f;
            } else if (u < fraction) {
                out[i] = 1f;
            }
        }
        return out;
    }

    private static NDArray batch(NDManager m, float[]... images) {
        NDList list = new NDList();
        for (float[] image : images) {
            list.add(m.create(image, new Shape(1, 1, 2, 3)));
        }
        return NDArrays.concat(list, 0);
    }

    private static float[] image(NDArray batch, int i) {
        return batch.get(i).toFloatArray();
    }

    @Test
    void gaussianNoiseIsEachImagesSeededStreamClipped() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray out = new GaussianNoise(0.3f, 42).transform(batch(m, A, B));
            assertEquals(new Shape(2, 1, 2, 3), out.getShape());
            float[] a = image(out, 0);
            assertArrayEquals(noisy(A, 0.3f, 42), a);
            assertArrayEquals(noisy(B, 0.3f, 42), image(out, 1));
            // sigma 0.3 on values at 0 and 1: some clip, and nothing leaves [0, 1]
            int clipped = 0;
            for (float v : a) {
                assertTrue(v >= 0f && v <= 1f, "in [0, 1]: " + v);
                clipped += v == 0f || v == 1f ? 1 : 0;
            }
            assertTrue(clipped > 0, "some values clip");
            // a (C, H, W) image, the batch in the other order, another seed
            NDArray alone = new GaussianNoise(0.3f, 42).transform(m.create(A, new Shape(1, 2, 3)));
            assertEquals(new Shape(1, 2, 3), alone.getShape());
            assertArrayEquals(a, alone.toFloatArray());
            assertArrayEquals(a, image(new GaussianNoise(0.3f, 42).transform(batch(m, B, A)), 1));
            assertArrayEquals(
                    noisy(A, 0.3f, 7), image(new GaussianNoise(0.3f, 7).transform(batch(m, A)), 0));
            assertNotEquals(
                    java.util.Arrays.toString(a), java.util.Arrays.toString(noisy(A, 0.3f, 7)));
        }
    }

    @Test
    void gaussianNoiseHasTheRequestedStatisticsAndKeepsTypeAndDevice() {
        try (NDManager m = NDManager.newBaseManager()) {
            // far from the bounds nothing clips: out - x is sigma times standard normal draws
            NDArray x = m.full(new Shape(3, 64, 64), 0.5f, DataType.FLOAT64);
            NDArray out = new GaussianNoise(0.05f, 1).transform(x);
            assertEquals(DataType.FLOAT64, out.getDataType());
            assertEquals(x.getDevice(), out.getDevice());
            double[] d = out.sub(x).toDoubleArray();
            double mean = 0;
            double sq = 0;
            for (double v : d) {
                mean += v;
                sq += v * v;
            }
            mean /= d.length;
            double std = Math.sqrt(sq / d.length - mean * mean);
            // 12,288 draws: standard error of the mean 0.05/111 = 4.5e-4, of the std ~3.2e-4
            assertEquals(0, mean, 2e-3);
            assertEquals(0.05, std, 2e-3);
            // sigma 0 keeps [0, 1] images as they are
            NDArray same = new GaussianNoise(0f, 1).transform(batch(m, A));
            assertArrayEquals(A, same.toFloatArray());
        }
    }

    @Test
    void saltAndPepperReplacesTheSeededFractionWithZerosAndOnes() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray out = new SaltAndPepper(0.5f, 3).transform(batch(m, A, B));
            assertArrayEquals(saltAndPepper(A, 0.5f, 3), image(out, 0));
            assertArrayEquals(saltAndPepper(B, 0.5f, 3), image(out, 1));
            assertArrayEquals(
                    image(out, 0),
                    new SaltAndPepper(0.5f, 3)
                            .transform(m.create(A, new Shape(1, 2, 3)))
                            .toFloatArray());
            // on a large grey image: the fraction replaced, half salt and half pepper
            NDArray grey = m.full(new Shape(1, 100, 100), 0.5f);
            float[] v = new SaltAndPepper(0.2f, 11).transform(grey).toFloatArray();
            int salt = 0;
            int pepper = 0;
            for (float value : v) {
                salt += value == 1f ? 1 : 0;
                pepper += value == 0f ? 1 : 0;
            }
            // 10,000 values: binomial standard deviations 40 (both) and 30 (each)
            assertEquals(2000, salt + pepper, 160);
            assertEquals(1000, salt, 120);
            assertEquals(1000, pepper, 120);
            assertArrayEquals(A, new SaltAndPepper(0f, 3).transform(batch(m, A)).toFloatArray());
        }
    }

    @Test
    void gaussianBlurOfAnImpulseIsTheNormalisedKernelWithReflectPadding() {
        try (NDManager m = NDManager.newBaseManager()) {
            // sigma 0.5: radius ceil(1.5) = 2, weights exp(-2 k^2) / Z for k = -2..2
            double z = 1 + 2 * Math.exp(-2) + 2 * Math.exp(-8);
            double[] w = {
                Math.exp(-8) / z, Math.exp(-2) / z, 1 / z, Math.exp(-2) / z, Math.exp(-8) / z
            };
            // an impulse in the middle of 5: the taps at -2 and 6 reflect onto index 2 too, so
            // the border rows and columns get w(2) twice
            float[] impulse = new float[25];
            impulse[2 * 5 + 2] = 1f;
            GaussianBlur blur = new GaussianBlur(0.5f);
            assertEquals(2, blur.getRadius());
            double[] middle = {w[0] + w[4], w[1], w[2], w[3], w[0] + w[4]};
            float[] centre = blur.transform(m.create(impulse, new Shape(1, 5, 5))).toFloatArray();
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < 5; j++) {
                    assertEquals(
                            middle[i] * middle[j],
                            centre[i * 5 + j],
                            1e-7,
                            "(" + i + ", " + j + ")");
                }
            }
            // an impulse in the corner is read only by the taps that reach index 0 itself (index
            // -1 reads index 1, not 0: reflect, not edge padding)
            float[] corner = new float[25];
            corner[0] = 1f;
            float[] c = blur.transform(m.create(corner, new Shape(1, 1, 5, 5))).toFloatArray();
            double[] edge = {w[2], w[1], w[0], 0, 0};
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < 5; j++) {
                    assertEquals(edge[i] * edge[j], c[i * 5 + j], 1e-7, "(" + i + ", " + j + ")");
                }
            }
            // sigma 0 is the identity
            NDArray x = m.create(A, new Shape(1, 2, 3));
            assertSame(x, new GaussianBlur(0f).transform(x));
        }
    }

    @Test
    void gaussianBlurMatchesTorchvision() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] image = {
                0.0f, 0.5f, 1.0f, 0.25f, 0.75f, 0.125f, 1.0f, 0.0f, 0.5f, 0.5f, 0.0f, 1.0f, 0.25f,
                0.25f, 0.875f, 0.0f, 1.0f, 0.5f, 0.5f, 1.0f, 0.0f, 0.625f, 0.375f, 0.0f, 0.0f, 0.0f,
                1.0f, 1.0f, 0.5f, 0.25f
            };
            // torchvision 0.14.1 (Debian python3-torchvision):
            // transforms.functional.gaussian_blur(img, [7, 7], [0.8, 0.8]) on this 1x5x6 image
            float[] sigma08 = {
                0.3864961564540863f, 0.4258182644844055f, 0.5417659878730774f,
                0.46446412801742554f, 0.43892788887023926f, 0.4768240749835968f,
                0.412322998046875f, 0.40011805295944214f, 0.48572272062301636f,
                0.43512701988220215f, 0.45514658093452454f, 0.5325556397438049f,
                0.42596471309661865f, 0.4390018582344055f, 0.4687110185623169f,
                0.4365347921848297f, 0.5078681111335754f, 0.534892737865448f,
                0.45294445753097534f, 0.4916139245033264f, 0.4998231530189514f,
                0.5222740769386292f, 0.46355152130126953f, 0.3674597144126892f,
                0.3575047254562378f, 0.4385806620121002f, 0.5695903897285461f,
                0.633734405040741f, 0.4668620228767395f, 0.3204379081726074f
            };
            NDArray x = m.create(image, new Shape(1, 5, 6));
            assertArrayEquals(sigma08, new GaussianBlur(0.8f).transform(x).toFloatArray(), 1e-6f);
            // a batch blurs each image on its own, float64 stays float64
            NDArray pair =
                    NDArrays.stack(new NDList(x, x.mul(0.5f))).toType(DataType.FLOAT64, false);
            NDArray both = new GaussianBlur(0.8f).transform(pair);
            assertEquals(DataType.FLOAT64, both.getDataType());
            float[] half = both.get(1).toType(DataType.FLOAT32, false).toFloatArray();
            for (int i = 0; i < half.length; i++) {
                assertEquals(sigma08[i] * 0.5f, half[i], 1e-6f);
            }
        }
    }

    @Test
    void contrastBlendsTowardsEachImagesMean() {
        try (NDManager m = NDManager.newBaseManager()) {
            // means 0.4375 and 0.5; factor 0.5: x/2 + m/2, exact in binary
            NDArray x =
                    m.create(
                            new float[] {0f, 0.25f, 0.5f, 1f, 1f, 0f, 0.75f, 0.25f},
                            new Shape(2, 1, 2, 2));
            float[] out = new ContrastReduction(0.5f).transform(x).toFloatArray();
            assertArrayEquals(
                    new float[] {
                        0.21875f, 0.34375f, 0.46875f, 0.71875f, 0.75f, 0.25f, 0.625f, 0.375f
                    },
                    out);
            assertArrayEquals(
                    new float[] {0.4375f, 0.4375f, 0.4375f, 0.4375f},
                    new ContrastReduction(0f).transform(x.get(0)).toFloatArray());
            assertArrayEquals(
                    x.toFloatArray(), new ContrastReduction(1f).transform(x).toFloatArray());
        }
    }

    @Test
    void contrastMatchesTorchvisionOnSingleChannelImages() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] image = {
                0.0f, 0.5f, 1.0f, 0.25f, 0.75f, 0.125f, 1.0f, 0.0f, 0.5f, 0.5f, 0.0f, 1.0f, 0.25f,
                0.25f, 0.875f, 0.0f, 1.0f, 0.5f, 0.5f, 1.0f, 0.0f, 0.625f, 0.375f, 0.0f, 0.0f, 0.0f,
                1.0f, 1.0f, 0.5f, 0.25f
            };
            // torchvision 0.14.1: transforms.functional.adjust_contrast(img, 0.3)
            float[] want = {
                0.32083332538604736f, 0.47083333134651184f, 0.6208333373069763f,
                0.3958333134651184f, 0.5458333492279053f, 0.3583333194255829f,
                0.6208333373069763f, 0.32083332538604736f, 0.47083333134651184f,
                0.47083333134651184f, 0.32083332538604736f, 0.6208333373069763f,
                0.3958333134651184f, 0.3958333134651184f, 0.5833333730697632f,
                0.32083332538604736f, 0.6208333373069763f, 0.47083333134651184f,
                0.47083333134651184f, 0.6208333373069763f, 0.32083332538604736f,
                0.5083333253860474f, 0.4333333373069763f, 0.32083332538604736f,
                0.32083332538604736f, 0.32083332538604736f, 0.6208333373069763f,
                0.6208333373069763f, 0.47083333134651184f, 0.3958333134651184f
            };
            float[] got =
                    new ContrastReduction(0.3f)
                            .transform(m.create(image, new Shape(1, 5, 6)))
                            .toFloatArray();
            assertArrayEquals(want, got, 1e-7f);
        }
    }

    @Test
    void badParametersAndInputsNameTheParameterAndTheValidRange() {
        assertEquals(
                "GaussianNoise sigma must be in [0, inf) (finite), got -0.1",
                assertThrows(IllegalArgumentException.class, () -> new GaussianNoise(-0.1f, 1))
                        .getMessage());
        assertEquals(
                "GaussianNoise sigma must be in [0, inf) (finite), got NaN",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Corruption.gaussianNoise(1).at(Float.NaN))
                        .getMessage());
        assertEquals(
                "SaltAndPepper fraction must be in [0, 1], got 1.5",
                assertThrows(IllegalArgumentException.class, () -> new SaltAndPepper(1.5f, 1))
                        .getMessage());
        assertEquals(
                "GaussianBlur sigma must be in [0, inf) (finite, in pixels), got Infinity",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> new GaussianBlur(Float.POSITIVE_INFINITY))
                        .getMessage());
        assertEquals(
                "ContrastReduction factor must be in [0, 1] (1 = unchanged), got -1.0",
                assertThrows(IllegalArgumentException.class, () -> Corruption.contrast().at(-1f))
                        .getMessage());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray small = m.zeros(new Shape(2, 1, 5, 6));
            assertEquals(
                    "GaussianBlur sigma=2.0 has radius ceil(3*sigma)=6, which reflect padding"
                            + " needs to be smaller than the image height and width; got 5x6"
                            + " (shape (2, 1, 5, 6)): use sigma <= 1.3333333333333333",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> new GaussianBlur(2f).transform(small))
                            .getMessage());
            assertEquals(
                    "GaussianNoise needs a (C, H, W) image or an (N, C, H, W) batch, got shape"
                            + " (5, 6)",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () ->
                                            new GaussianNoise(0.1f, 1)
                                                    .transform(m.zeros(new Shape(5, 6))))
                            .getMessage());
            assertEquals(
                    "ContrastReduction needs floating-point images in [0, 1] (after ToTensor), got"
                            + " uint8",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () ->
                                            new ContrastReduction(0.5f)
                                                    .transform(
                                                            m.zeros(
                                                                    new Shape(1, 5, 6),
                                                                    DataType.UINT8)))
                            .getMessage());
        }
    }

    @Test
    void namedFamiliesGiveTheirTransformPerLevel() {
        assertEquals("none", Corruption.none().getName());
        assertEquals("gaussian_noise", Corruption.gaussianNoise(1).getName());
        assertEquals("salt_and_pepper", Corruption.saltAndPepper(1).getName());
        assertEquals("gaussian_blur", Corruption.gaussianBlur().getName());
        assertEquals("contrast", Corruption.contrast().getName());
        Transform t = Corruption.gaussianBlur().at(1.5f);
        assertEquals(1.5f, ((GaussianBlur) t).getSigma());
        assertEquals(0.25f, ((ContrastReduction) Corruption.contrast().at(0.25f)).getFactor());
        assertEquals(0.1f, ((SaltAndPepper) Corruption.saltAndPepper(1).at(0.1f)).getFraction());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(A, new Shape(1, 2, 3));
            assertSame(x, Corruption.none().at(5f).transform(x));
        }
        assertEquals(
                "corruption name must not be empty, got ",
                assertThrows(IllegalArgumentException.class, () -> Corruption.of("", l -> null))
                        .getMessage());
    }
}
