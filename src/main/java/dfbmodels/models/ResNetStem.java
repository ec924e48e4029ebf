package dfbmodels.models;

/**
 * The first layers of a feedback ResNet, before {@code layer1}: they decide how far the input is
 * downsampled, hence the spatial size of the state and of the feedback.
 *
 * <p>Both stems name their layers {@code conv1} and {@code bn1}, so {@code state_dict} keys are
 * torchvision's either way; the shape of {@code conv1.weight} differs ({@code (w, Cin, 7, 7)} or
 * {@code (w, Cin, 3, 3)}, {@code w} the base width, 64 by default), so ImageNet weights do not load
 * into a CIFAR-stem model.
 *
 * <p>State size ({@code layer4}'s output, {@code Hs × Ws}) for square inputs:
 *
 * <table>
 *   <caption>state size by input size</caption>
 *   <tr><th>input</th><th>{@link #IMAGENET}</th><th>{@link #CIFAR}</th></tr>
 *   <tr><td>28×28</td><td>1×1</td><td>4×4</td></tr>
 *   <tr><td>32×32</td><td>1×1</td><td>4×4</td></tr>
 *   <tr><td>64×64</td><td>2×2</td><td>8×8</td></tr>
 *   <tr><td>224×224</td><td>7×7</td><td>28×28</td></tr>
 * </table>
 *
 * <p>(each stride-2 layer maps {@code n} to {@code ceil(n / 2)}: 28 → 28 → 14 → 7 → 4 with the
 * CIFAR stem.)
 */
public enum ResNetStem {

    /**
     * torchvision's (ImageNet) stem, the default: {@code conv1} 7×7 stride 2 padding 3, {@code
     * bn1}, ReLU, {@code maxpool} 3×3 stride 2 padding 1: {@code (B, Cin, H, W) -> (B, w, H/4,
     * W/4)}; the state is {@code H/32 × W/32} (rounded up). At 28–32 px the state is 1×1, and the
     * feedback, resized from it, is a constant map per channel (docs/math.md).
     */
    IMAGENET,

    /**
     * The small-input ("CIFAR") stem of He et al. 2016, §4.2, as in the common CIFAR ResNet18 (e.g.
     * kuangliu/pytorch-cifar): {@code conv1} 3×3 stride 1 padding 1, {@code bn1}, ReLU, no
     * max-pool: {@code (B, Cin, H, W) -> (B, w, H, W)}; the state is {@code H/8 × W/8} (rounded
     * up), 4×4 for 28×28 and 32×32 inputs. DJL's {@code ResNetV1} uses the same 3×3 stride-1
     * convolution for images up to 32 px (without BN and ReLU after it). {@code layer1..layer4} run
     * on 16 times as many pixels as with the ImageNet stem, so a step costs about 16 times as much
     * compute (14 times for ResNet18 at 28×28: 0.47 instead of 0.034 G multiply-adds per image and
     * step). With base width 16 ({@link FeedbackResNet.Builder#optWidth(int)}) it is 0.031 G, the
     * ImageNet stem's cost at width 64.
     */
    CIFAR
}
