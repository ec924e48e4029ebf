package dfbmodels.examples;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Arrays;

/**
 * The examples' option values: each parser names the option, the value given and what is valid, so
 * that every program explains a bad value the same way.
 */
final class OptionValues {

    private OptionValues() {}

    static int positive(String name, String value) {
        int n;
        try {
            n = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n < 1) {
            throw new IllegalArgumentException(name + " must be a positive integer, got " + value);
        }
        return n;
    }

    /** Batch normalisation cannot train on a batch of one image. */
    static int atLeastTwo(String name, String value) {
        int n = positive(name, value);
        if (n < 2) {
            throw new IllegalArgumentException(
                    name
                            + " must be at least 2 (batch normalisation cannot train on a batch of"
                            + " one image), got "
                            + value);
        }
        return n;
    }

    static int nonNegative(String name, String value) {
        int n;
        try {
            n = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 0) {
            throw new IllegalArgumentException(
                    name + " must be an integer of at least 0, got " + value);
        }
        return n;
    }

    /**
     * Comma-separated positive integers.
     *
     * @param count how many there must be, or -1 for any number
     */
    static int[] positives(String name, String value, int count) {
        int[] out = Arrays.stream(value.split(",")).mapToInt(p -> positive(name, p)).toArray();
        if (count > 0 && out.length != count) {
            throw new IllegalArgumentException(
                    name + " needs " + count + " comma-separated positive integers, got " + value);
        }
        return out;
    }

    static float positiveNumber(String name, String value) {
        float x = number(value);
        if (!(x > 0) || Float.isInfinite(x)) {
            throw new IllegalArgumentException(name + " must be a positive number, got " + value);
        }
        return x;
    }

    static float nonNegativeNumber(String name, String value) {
        float x = number(value);
        if (!(x >= 0) || Float.isInfinite(x)) {
            throw new IllegalArgumentException(name + " must be a number >= 0, got " + value);
        }
        return x;
    }

    private static float number(String value) {
        try {
            return Float.parseFloat(value.trim());
        } catch (NumberFormatException e) {
            return Float.NaN;
        }
    }

    /** Unlike {@link Boolean#parseBoolean}, a typo ({@code ture}) is not {@code false}. */
    static boolean bool(String name, String value) {
        if (!value.equals("true") && !value.equals("false")) {
            throw new IllegalArgumentException(name + " must be true or false, got " + value);
        }
        return value.equals("true");
    }

    /** {@code --device}: checked here; whether a GPU is there, by {@link #runtimeDevice}. */
    static String device(String value) {
        if (!value.equals("cpu") && !value.equals("gpu")) {
            throw new IllegalArgumentException("--device must be cpu or gpu, got " + value);
        }
        return value;
    }

    static long seed(String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--seed must be an integer, got " + value);
        }
    }

    /**
     * The device a checked {@code --device} value names, once the program runs.
     *
     * @param name {@code cpu} or {@code gpu}
     * @return the device
     * @throws IllegalArgumentException for {@code gpu} where LibTorch sees no GPU
     */
    static Device runtimeDevice(String name) {
        if (name.equals("gpu") && Engine.getInstance().getGpuCount() == 0) {
            throw new IllegalArgumentException(
                    "--device gpu: LibTorch sees no GPU here (build with -Dcuda for the CUDA"
                            + " LibTorch); use --device cpu");
        }
        return name.equals("gpu") ? Device.gpu() : Device.cpu();
    }

    /** {@code --iterations}: comma-separated T in 1..100, returned sorted without repeats. */
    static int[] iterations(String v) {
        String[] parts = v.split(",", -1);
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            int t;
            try {
                t = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                t = -1;
            }
            if (t < 1 || t > 100) {
                throw new IllegalArgumentException(
                        "--iterations must be a comma-separated list of integers in 1..100, got "
                                + v
                                + " ("
                                + parts[i]
                                + ")");
            }
            out[i] = t;
        }
        return Arrays.stream(out).distinct().sorted().toArray();
    }
}
