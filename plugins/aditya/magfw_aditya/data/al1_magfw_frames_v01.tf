KPL/FK

Aditya-L1 frames for magfw (written by magfw_aditya.spice.write_mission_fk).

ADITYA (-156001): spacecraft body frame (SCCS): +X yaw (Sun-pointing), +Y roll, +Z pitch;
orientation from the attitude CK (instrument -156001, clock -156, ephemeris object -156), as
in the public ADITYA_frame_kernel_v04.tf.
ADITYA_MAG (-156566): the magnetometer frame, identical to ADITYA (MAG L1 is in SCCS).
GSE and GSM are magfw's own frames (magfw.geometry.frames), not defined here.

\begindata

   FRAME_ADITYA = -156001
   FRAME_-156001_NAME = 'ADITYA'
   FRAME_-156001_CLASS = 3
   FRAME_-156001_CLASS_ID = -156001
   FRAME_-156001_CENTER = -156
   CK_-156001_SCLK = -156
   CK_-156001_SPK = -156
   FRAME_ADITYA_MAG = -156566
   FRAME_-156566_NAME = 'ADITYA_MAG'
   FRAME_-156566_CLASS = 4
   FRAME_-156566_CLASS_ID = -156566
   FRAME_-156566_CENTER = 0
   TKFRAME_-156566_RELATIVE = 'ADITYA'
   TKFRAME_-156566_SPEC = 'MATRIX'
   TKFRAME_-156566_MATRIX = ( 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0 )

\begintext
