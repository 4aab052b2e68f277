"""SoundStream neural audio codec with a Dynamic Switch Layer over heavy and light decoders."""

from gcnet.models.codec.codec import PATHWAYS, SIZES, SoundStreamDSL, from_config
from gcnet.models.codec.compute import (bitrate, codec_compute, count_params, expected_flops_per_s,
                                        xla_flops)
from gcnet.models.codec.decoder import Decoder
from gcnet.models.codec.discriminator import MultiSTFTDiscriminator, STFTDiscriminator
from gcnet.models.codec.encoder import Encoder
from gcnet.models.codec.staged import StagedCodec, code_wave, codec_stage_fns, run_routed
from gcnet.models.codec.rvq import (CODEBOOK_COLLECTION, QUANTIZER_COLLECTION, CodebookStats,
                                    ResidualVQ)
