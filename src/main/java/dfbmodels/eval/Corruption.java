package dfbmodels.eval;

import ai.djl.translate.Transform;
import java.util.function.Function;

/**
 * A named family of image corruptions indexed by a severity level: {@link #at(float)} gives the
 * {@link Transform} for one level. {@link RobustnessEvaluation} takes corruptions with their
 * levels; the name and level are what its table reports.
 *
 * <table>
 *   <caption>the built-in corruptions</caption>
 *   <tr><th>factory</th><th>name</th><th>level</th><th>clean at</th></tr>
 *   <tr><td>{@link #none()}</td><td>{@code none}</td><td>ignored</td><td>any</td></tr>
 *   <tr><td>{@link #gaussianNoise(long)}</td><td>{@code gaussian_noise}</td>
 *       <td>sigma of {@link GaussianNoise}, [0, ∞)</td><td>0</td></tr>
 *   <tr><td>{@link #saltAndPepper(long)}</td><td>{@code salt_and_pepper}</td>
 *       <td>fraction of {@link SaltAndPepper}, [0, 1]</td><td>0</td></tr>
 *   <tr><td>{@link #gaussianBlur()}</td><td>{@code gaussian_blur}</td>
 *       <td>sigma of {@link GaussianBlur} in pixels, [0, ∞)</td><td>0</td></tr>
 *   <tr><td>{@link #contrast()}</td><td>{@code contrast}</td>
 *       <td>factor of {@link ContrastReduction}, [0, 1] (lower is stronger)</td><td>1</td></tr>
 * </table>
 */
public final class Corruption {

    private final String name;
    private final Function<Float, Transform> atLevel;

    private Corruption(String name, Function<Float, Transform> atLevel) {
        this.name = name;
        this.atLevel = atLevel;
    }

    /**
     * Returns a corruption of your own.
     *
     * @param name the name reported in tables (not empty)
     * @param atLevel the transform for a level; it should throw {@link IllegalArgumentException}
     *     for invalid levels
     * @return the corruption
     * @throws IllegalArgumentException if the name is null or empty or {@code atLevel} is null
     */
    public static Corruption of(String name, Function<Float, Transform> atLevel) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("corruption name must not be empty, got " + name);
        }
        if (atLevel == null) {
            throw new IllegalArgumentException("corruption " + name + " needs a level function");
        }
        return new Corruption(name, atLevel);
    }

    /**
     * Returns the identity: the clean data, whatever the level.
     *
     * @return the corruption named {@code none}
     */
    public static Corruption none() {
        return new Corruption("none", level -> array -> array);
    }

    /**
     * Returns clipped additive Gaussian noise; the level is sigma.
     *
     * @param seed the seed of every level's {@link GaussianNoise}
     * @return the corruption named {@code gaussian_noise}
     */
    public static Corruption gaussianNoise(long seed) {
        return new Corruption("gaussian_noise", level -> new GaussianNoise(level, seed));
    }

    /**
     * Returns salt-and-pepper noise; the level is the expected fraction of replaced values.
     *
     * @param seed the seed of every level's {@link SaltAndPepper}
     * @return the corruption named {@code salt_and_pepper}
     */
    public static Corruption saltAndPepper(long seed) {
        return new Corruption("salt_and_pepper", level -> new SaltAndPepper(level, seed));
    }

    /**
     * Returns Gaussian blur; the level is sigma in pixels.
     *
     * @return the corruption named {@code gaussian_blur}
     */
    public static Corruption gaussianBlur() {
        return new Corruption("gaussian_blur", GaussianBlur::new);
    }

    /**
     * Returns contrast reduction; the level is the remaining contrast (1 unchanged, 0 uniform).
     *
     * @return the corruption named {@code contrast}
     */
    public static Corruption contrast() {
        return new Corruption("contrast", ContrastReduction::new);
    }

    /**
     * Returns the name reported in tables.
     *
     * @return the name
     */
    public String getName() {
        return name;
    }

    /**
     * Returns the transform of one level.
     *
     * @param level the severity, in the range of the corruption (see the class description)
     * @return the transform
     * @throws IllegalArgumentException if the level is outside the corruption's range; the message
     *     names the parameter and its range
     */
    public Transform at(float level) {
        Transform t = atLevel.apply(level);
        if (t == null) {
            throw new IllegalArgumentException(
                    "corruption " + name + " gave no transform for level " + level);
        }
        return t;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return name;
    }
}
